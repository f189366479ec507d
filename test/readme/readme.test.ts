/**
 * The README and the docs/ pages run: their ```sh blocks, in order (README.md, then the pages in
 * readme-blocks.ts's PAGE_ORDER, then every other docs/*.md by name), in one bash session, against
 * a fresh tableport.
 *
 * Conventions (for anyone adding a block, in the README or in a docs/ page):
 * - Every ```sh block must run on a fresh database after the blocks before it (the README's quick
 *   start first), using the variables they set (`$TOKEN`, `$API`, `$AUTH`, `$TABLEPORT_URL`, ...),
 *   and exit 0. Output samples go in plain ``` fences.
 * - A block that cannot run here (it needs S3, a second deployment, a browser, or is `npm test`
 *   itself) is preceded by the line `<!-- readme-test: skip -->`.
 * - The test provides the server: it starts one (API and workers) on a free port, and lines that
 *   start or install one (`npm ci`, `npm start`, `npx tableport all|api|worker`) are left out.
 *   `http://localhost:3000` in a block is rewritten to that server's address.
 * - The blocks run with `set -eE -o pipefail` in a scratch directory (with `examples/` linked in),
 *   `curl` fails on an HTTP error status (`--fail-with-body`), and `npx tableport` / `npx tsx` run
 *   this checkout's CLI and tools. A failure names the file and line of the block.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { type PageBlock, runnableBlocks, runnablePages, SKIP_MARKER, shellBlocks } from './readme-blocks.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PROVIDED = /^\s*(npm ci|npm start|npx tableport (all|api|worker))\b.*$/;

/** A block's name in the script's markers and in failures: `docs/api.md:42`. */
const where = (b: PageBlock) => `${b.file}:${b.line}`;

function script(blocks: PageBlock[], baseUrl: string): string {
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
    parts.push(`__line=${where(b)}`, `printf '\\n@@readme-block %s\\n' ${where(b)}`, code);
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

test('the README runs first, then the reference pages in their order, then any other docs/ page', () => {
  const pages = runnablePages(REPO);
  assert.deepEqual(pages.slice(0, 4), ['README.md', 'docs/api.md', 'docs/locations.md', 'docs/sdk.md']);
  assert.ok(pages.includes('docs/bundles.md') && pages.indexOf('docs/bundles.md') > pages.indexOf('docs/api.md'));
});

test('every shell block of the README and docs/ runs in order against a fresh server', { timeout: 600_000 }, async () => {
  const blocks = runnableBlocks(REPO);
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

  const failed = /@@readme-failed (\S+) (\d+)/.exec(run.stderr);
  if (run.code !== 0 || !run.stdout.includes('@@readme-done')) {
    const line = failed?.[1] ?? '?';
    const tail = (s: string) => s.split('\n').slice(-25).join('\n');
    assert.fail(
      `${line}: the \`\`\`sh block starting at that line failed (exit ${failed?.[2] ?? run.code}).\n` +
        `--- stdout (end) ---\n${tail(run.stdout)}\n--- stderr (end) ---\n${tail(run.stderr)}`,
    );
  }

  // Key outputs, by block.
  const outputs = new Map<string, string>();
  for (const part of run.stdout.split('@@readme-block ').slice(1)) {
    const nl = part.indexOf('\n');
    outputs.set(part.slice(0, nl), part.slice(nl + 1));
  }
  const blockWith = (needle: string) => {
    const b = blocks.find((x) => x.code.includes(needle));
    assert.ok(b, `no block of the README or docs/ contains ${needle}`);
    return { line: where(b), out: outputs.get(where(b)) ?? '' };
  };
  const quick = blockWith('npx tableport jobs wait $JOB --out orders.csv');
  assert.match(quick.out, /table 1000\n/, `${quick.line}: the quick start's table is 1000 on a fresh database`);
  assert.match(quick.out, /Export job \S+ succeeded: 2 rows/, `${quick.line}`);
  assert.match(quick.out, /"second, with a comma",12/, `${quick.line}: the exported CSV`);
  const selection = blockWith('csv_customize_headers');
  assert.match(
    selection.out,
    /Product,Price,Added\n50% off: Tea,3.5,\d{4}-\d\d-\d\dT[\d:.]+Z\nMilk,1.5,2023-11-14T22:15:00.000Z\n/,
    `${selection.line}`,
  );
  const imported = blockWith('more-products.csv');
  assert.match(imported.out, /Import job \S+ succeeded: 2 rows written/, `${imported.line}`);
  const sdk = blockWith('examples/sdk-quickstart.ts');
  assert.match(sdk.out, /2 rows imported into table/, `${sdk.line}`);
});
