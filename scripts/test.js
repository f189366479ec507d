#!/usr/bin/env node
// Runs the test suite with Node's own runner. Node 20 does not expand globs given to --test,
// so the files are found here; arguments narrow the run (`npm test -- test/unit`).
// --test-force-exit: a handle a test forgot to close must not hang CI until its time limit.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const roots = process.argv.slice(2);
// Suites with scripts of their own, run only when named (`npm run test:faults`, `npm run test:e2e`).
const OWN_SCRIPT = [join('test', 'faults'), join('test', 'e2e')];
const files = (roots.length ? roots : ['test'])
  .flatMap((r) => (statSync(r).isDirectory() ? find(r) : [r]))
  .filter((f) => roots.length > 0 || !OWN_SCRIPT.some((d) => f.startsWith(`${d}/`)))
  .sort();
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const reporter = process.env.CI ? 'spec' : (process.env.TEST_REPORTER ?? 'spec');
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-force-exit', `--test-concurrency=${concurrency}`, `--test-reporter=${reporter}`, ...files],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
