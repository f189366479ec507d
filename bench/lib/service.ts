/**
 * The real service as an operator runs it: `tableport api` and `tableport worker` as separate
 * child processes, so each one's memory can be read from /proc. Logs go to files in the temp dir.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, '../..');
const BIN = join(REPO, 'bin/tableport.js');

export { freePort } from '../../test/helpers/ports.js';

/** `tableport users add`; the token is the last line of stdout, as the contract says. */
export async function addUser(env: NodeJS.ProcessEnv, email: string, track: (child: ChildProcess) => void): Promise<string> {
  const pending = run(process.execPath, [BIN, 'users', 'add', '--email', email, '--name', 'Bench'], { env, cwd: REPO, timeout: 60_000 });
  track(pending.child);
  const { stdout } = await pending;
  const token = stdout.trim().split('\n').pop()?.trim();
  if (!token) throw new Error(`tableport users add printed no token: ${stdout}`);
  return token;
}

export interface RoleProcess {
  role: Role;
  child: ChildProcess;
  pid: number;
  logPath: string;
  memory: MemoryWatch;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Resolves when the role is ready to work. */
  ready: (proc: RoleProcess) => Promise<void>;
  /** Called with the child the moment it is spawned (before it is ready). */
  track: (child: ChildProcess) => void;
  timeoutMs?: number;
  /** The log file's name without `.log` (default: the role); two processes of one role need two names. */
  name?: string;
}

/** `all` is what `npm start` runs: the API and the workers in one process. */
export type Role = 'api' | 'worker' | 'all';

/**
 * The service runs the compiled JavaScript in dist/ when it is there (bin/tableport.js), so a
 * source file changed since the last build would not be what the benchmark measures. Returns such a
 * file, or undefined (no build, or TABLEPORT_FROM_SOURCE=1: the sources run).
 */
export function sourceNewerThanBuild(): string | undefined {
  const built = join(REPO, 'dist/src/cli/main.js');
  if (process.env.TABLEPORT_FROM_SOURCE === '1' || !existsSync(built)) return undefined;
  const at = statSync(built).mtimeMs;
  for (const dir of ['src', 'workers'])
    for (const entry of readdirSync(join(REPO, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const path = join(entry.parentPath, entry.name);
      if (statSync(path).mtimeMs > at) return path.slice(REPO.length + 1);
    }
  return undefined;
}

export async function spawnRole(role: Role, opts: SpawnOptions): Promise<RoleProcess> {
  const logPath = join(opts.logDir, `${opts.name ?? role}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, role], {
    env: opts.env,
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  opts.track(child);
  // stdio is 'pipe' for both, so Node always gives the streams.
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`the ${role} process did not start (see ${logPath})`);
  const proc: RoleProcess = {
    role,
    child,
    pid,
    logPath,
    memory: new MemoryWatch(pid),
    async stop() {
      proc.memory.stopSampling();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(t);
      }
      log.end();
    },
  };
  const deadline = opts.timeoutMs ?? 60_000;
  const failed = exited.then((code) => {
    throw new Error(`tableport ${role} exited with code ${code} before it was ready; see ${logPath}:\n${tail(logPath)}`);
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`tableport ${role} was not ready within ${deadline / 1000} s; see ${logPath}`)), deadline);
  });
  try {
    await Promise.race([opts.ready(proc), failed, timeout]);
  } catch (err) {
    await proc.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  failed.catch(() => undefined);
  proc.memory.startSampling();
  return proc;
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

/** Waits for a line containing `text` in the role's log. */
export async function waitForLog(proc: RoleProcess, text: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const content = await readFile(proc.logPath, 'utf8').catch(() => '');
    if (content.includes(text)) return;
    await sleep(100);
  }
  throw new Error(`no "${text}" in ${proc.logPath} within ${timeoutMs / 1000} s`);
}

export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A process's peak resident memory over a span: the kernel's high-water mark (VmHWM), reset at
 * the start of the span through /proc/<pid>/clear_refs, with VmRSS sampled every 50 ms as a
 * floor in case the reset is not allowed.
 */
export class MemoryWatch {
  private sampledPeakKb = 0;
  private timer: NodeJS.Timeout | undefined;
  private canReset = true;

  constructor(readonly pid: number) {}

  async status(): Promise<{ rssKb: number; hwmKb: number }> {
    const s = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  }

  /** Starts a new span: the peak is measured from now. */
  async reset(): Promise<void> {
    if (this.canReset) {
      try {
        await writeFile(`/proc/${this.pid}/clear_refs`, '5');
      } catch {
        this.canReset = false;
      }
    }
    this.sampledPeakKb = (await this.status()).rssKb;
  }

  /** Peak RSS in MB since the last reset. */
  async peakMb(): Promise<number> {
    const { rssKb, hwmKb } = await this.status();
    const peak = Math.max(this.sampledPeakKb, rssKb, this.canReset ? hwmKb : 0);
    return peak / 1024;
  }

  async rssMb(): Promise<number> {
    return (await this.status()).rssKb / 1024;
  }

  startSampling(): void {
    this.timer = setInterval(() => {
      this.status().then(
        (s) => {
          if (s.rssKb > this.sampledPeakKb) this.sampledPeakKb = s.rssKb;
        },
        () => undefined,
      );
    }, 50);
    this.timer.unref();
  }

  stopSampling(): void {
    clearInterval(this.timer);
  }
}
