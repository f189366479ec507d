#!/usr/bin/env node
// The fault suite: kills, pauses and restarts workers, the API, Redis, PostgreSQL and SMTP (its
// own servers, on ports of its own) and checks that every job ends once. One file at a time:
// the faults are about timing, and this machine's cores are shared. Prints how many faults were
// injected and how many the service held.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'tableport-fault-tally-'));
const file = join(dir, 'tally.jsonl');
const args = process.argv.slice(2);
const run = (extra) =>
  spawnSync(process.execPath, ['scripts/test.js', ...(args.length ? args : ['test/faults'])], {
    stdio: 'inherit',
    env: { ...process.env, FAULT_SUMMARY_FILE: file, TEST_CONCURRENCY: process.env.TEST_CONCURRENCY ?? '1', ...extra },
  }).status ?? 1;
// Once with jobs queued in Redis, once in PostgreSQL (no REDIS_URL): one suite, two backends.
// TEST_BOTH_BACKENDS=0 (or TEST_QUEUE_BACKEND=postgres) runs it once.
let status = run({});
if (process.env.TEST_QUEUE_BACKEND !== 'postgres' && process.env.TEST_BOTH_BACKENDS !== '0') {
  console.log('faults: the same suite again, with jobs queued in PostgreSQL');
  status = run({ TEST_QUEUE_BACKEND: 'postgres' }) || status;
}
let lines = [];
try {
  lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
} catch {
  // No fault test ran.
}
rmSync(dir, { recursive: true, force: true });
const held = lines.filter((l) => l.held).length;
console.log(`fault suite: ${lines.length} faults injected, ${held} held, ${lines.length - held} did not hold`);
for (const l of lines.filter((x) => !x.held)) console.log(`  did not hold: ${l.name}`);
process.exit(status);
