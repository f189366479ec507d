/**
 * The `tableport` command as a user runs it: a child process per command, with the client's
 * variables (TABLEPORT_URL, TABLEPORT_TOKEN, ...) taken only from `env`, never from the shell
 * that runs the tests.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defined } from './defined.js';

export const BIN = fileURLToPath(new URL('../../bin/tableport.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const CLIENT_VARIABLES = {
  TABLEPORT_URL: undefined,
  TABLEPORT_TOKEN: undefined,
  TABLEPORT_TO_TOKEN: undefined,
  TABLEPORT_CONNECTION: undefined,
};

export function runTableport(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...CLIENT_VARIABLES, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) defined(child.stdin, 'child.stdin').end(input);
    let stdout = '';
    let stderr = '';
    defined(child.stdout, 'child.stdout').on('data', (c) => (stdout += c));
    defined(child.stderr, 'child.stderr').on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
