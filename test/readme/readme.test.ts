/**
 * The README runs: its ```sh blocks, in order, in one bash session, against a fresh tableport.
 *
 * Conventions (for anyone adding a block):
 * - Every ```sh block must run on a fresh database after the blocks above it, using the variables
 *   they set (`$TOKEN`, `$API`, `$AUTH`, `$TABLEPORT_URL`, ...), and exit 0. Output samples go in
 *   plain ``` fences.
 * - A block that cannot run here (it needs S3, a second deployment, a browser, or is `npm test`
 *   itself) is preceded by the line `<!-- readme-test: skip -->`.
 * - The test provides the server: it starts one (API and workers) on a free port, and lines that
 *   start or install one (`npm ci`, `npm start`, `npx tableport all|api|worker`) are left out.
 *   `http://localhost:3000` in a block is rewritten to that server's address.
 * - The blocks run with `set -eE -o pipefail` in a scratch directory (with `examples/` linked in),
 *   `curl` fails on an HTTP error status (`--fail-with-body`), and `npx tableport` / `npx tsx` run
 *   this checkout's CLI and tools. A failure names the README line of the block.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { SKIP_MARKER, shellBlocks, type Block } from './readme-blocks.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PROVIDED = /^\s*(npm ci|npm start|npx tableport (all|api|worker))\b.*$/;

function script(blocks: Block[], baseUrl: string): string {
  const parts = [
    'set -eE -o pipefail',
    `REPO=${JSON.stringify(REPO)}`,
    'export PATH="$REPO/node_modules/.bin:$PATH"',
    'curl() { command curl --fail-with-body "$@"; }',
    'npx() { if [ "$1" = tableport ]; then shift; node "$REPO/bin/tableport.js" "$@"; else "$@"; fi; }',
    `trap 'echo "@@readme-failed $__line $?" >&2' ERR`,
  ];
  for (const b of blocks) {
    const code = b.code
      .split('\n')
      .map((l) => (PROVIDED.test(l) ? ':  # provided by the README test' : l))
      .join('\n')
      .replaceAll('http://localhost:3000', baseUrl);
    parts.push(`__line=${b.line}`, `printf '\\n@@readme-block %s\\n' ${b.line}`, code);
  }
  parts.push('echo "@@readme-done"');
  return `${parts.join('\n')}\n`;
}

let server: TestServer;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tp-readme-'));
  // Mails go to ./data/outbox of the blocks' directory, as `npm start` does without SMTP_URL.
  server = await startTestServer({ outbox: true, env: { MAIL_OUTBOX_DIR: join(dir, 'data', 'outbox') } });
  await symlink(join(REPO, 'examples'), join(dir, 'examples'));
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('the extractor keeps ```sh blocks in order and honours the skip marker', () => {
  const md = ['a', '```sh', 'echo 1', '```', SKIP_MARKER, '```sh', 'npm test', '```', '```', 'out', '```', '```sh', 'echo 2', '```'].join(
    '\n',
  );
  assert.deepEqual(shellBlocks(md), [
    { line: 2, code: 'echo 1' },
    { line: 12, code: 'echo 2' },
  ]);
});

test('every README shell block runs in order against a fresh server', { timeout: 600_000 }, async () => {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const blocks = shellBlocks(readme);
  assert.ok(blocks.length >= 10, `only ${blocks.length} blocks found`);
  const file = join(dir, 'readme.sh');
  await writeFile(file, script(blocks, server.baseUrl));

  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('bash', [file], {
      cwd: dir,
      env: { ...server.childEnv(), TABLEPORT_URL: undefined, TABLEPORT_TOKEN: undefined, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

  const failed = /@@readme-failed (\d+) (\d+)/.exec(run.stderr);
  if (run.code !== 0 || !run.stdout.includes('@@readme-done')) {
    const line = failed?.[1] ?? '?';
    const tail = (s: string) => s.split('\n').slice(-25).join('\n');
    assert.fail(
      `README.md line ${line}: the \`\`\`sh block starting there failed (exit ${failed?.[2] ?? run.code}).\n` +
        `--- stdout (end) ---\n${tail(run.stdout)}\n--- stderr (end) ---\n${tail(run.stderr)}`,
    );
  }

  // Key outputs, by block.
  const outputs = new Map<number, string>();
  for (const part of run.stdout.split('@@readme-block ').slice(1)) {
    const nl = part.indexOf('\n');
    outputs.set(Number(part.slice(0, nl)), part.slice(nl + 1));
  }
  const blockWith = (needle: string) => {
    const b = blocks.find((x) => x.code.includes(needle));
    assert.ok(b, `no README block contains ${needle}`);
    return { line: b.line, out: outputs.get(b.line) ?? '' };
  };
  const quick = blockWith('npx tableport jobs wait $JOB --out orders.csv');
  assert.match(quick.out, /table 1000\n/, `README.md line ${quick.line}: the quick start's table is 1000 on a fresh database`);
  assert.match(quick.out, /Export job \S+ succeeded: 2 rows/, `README.md line ${quick.line}`);
  assert.match(quick.out, /"second, with a comma",12/, `README.md line ${quick.line}: the exported CSV`);
  const selection = blockWith('csv_customize_headers');
  assert.match(
    selection.out,
    /Product,Price,Added\n50% off: Tea,3.5,\d{4}-\d\d-\d\dT[\d:.]+Z\nMilk,1.5,2023-11-14T22:15:00.000Z\n/,
    `README.md line ${selection.line}`,
  );
  const imported = blockWith('more-products.csv');
  assert.match(imported.out, /Import job \S+ succeeded: 2 rows written/, `README.md line ${imported.line}`);
  const sdk = blockWith('examples/sdk-quickstart.ts');
  assert.match(sdk.out, /2 rows imported into table/, `README.md line ${sdk.line}`);
});
