/**
 * bin/tableport.js in a production install: dist/ and no tsx (a dev dependency). A copy of the
 * script in a folder of its own, with no node_modules above it, is such an install.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN } from '../../helpers/cli.js';

let dir: string;

function run(root: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = { ...process.env, TABLEPORT_FROM_SOURCE: undefined, ...env };
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin', 'tableport.js'), 'version'], { env: clean }, (err, stdout, stderr) => {
      resolve({ code: typeof err?.code === 'number' ? err.code : err ? 1 : 0, stdout, stderr });
    });
  });
}

async function install(name: string, withDist: boolean): Promise<string> {
  const root = join(dir, name);
  await mkdir(join(root, 'bin'), { recursive: true });
  await copyFile(BIN, join(root, 'bin', 'tableport.js'));
  await writeFile(join(root, 'package.json'), '{"type": "module"}');
  if (withDist) {
    await mkdir(join(root, 'dist', 'src', 'cli'), { recursive: true });
    await writeFile(
      join(root, 'dist', 'src', 'cli', 'main.js'),
      'export async function main(argv) { console.log("dist ran " + argv[2]); }\n',
    );
  }
  return root;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tableport-bin-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('with dist/ built, the command runs it and needs no tsx', async () => {
  const r = await run(await install('built', true));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'dist ran version\n');
});

test('without dist/ and without tsx, it says to build or to install the dev dependencies', async () => {
  const r = await run(await install('unbuilt', false));
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^tableport: dist\/ is not built, so the TypeScript sources would run through tsx, which is not installed/);
  assert.match(r.stderr, /Run `npm run build` \(with the dev dependencies installed: `npm ci`\), or install the dev dependencies/);
  assert.doesNotMatch(r.stderr, /ERR_MODULE_NOT_FOUND|\n\s+at /, 'a sentence, not a stack trace');
});

test('TABLEPORT_FROM_SOURCE=1 without tsx names the variable', async () => {
  const r = await run(await install('from-source', true), { TABLEPORT_FROM_SOURCE: '1' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^tableport: TABLEPORT_FROM_SOURCE=1 runs the TypeScript sources through tsx, which is not installed/);
});
