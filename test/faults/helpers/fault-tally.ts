/**
 * Counts the faults the suite injects and how many the service held, for the summary line that
 * `npm run test:faults` prints (each test file runs in a process of its own, so they append to a file).
 */
import { appendFileSync } from 'node:fs';
import { test } from 'node:test';
import { QUEUE_IN_POSTGRES } from './fault-env.js';

/** A test that injects one fault: it held when the test passed. */
export function faultTest(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    let held = false;
    try {
      await fn();
      held = true;
    } finally {
      const file = process.env.FAULT_SUMMARY_FILE;
      const queue = QUEUE_IN_POSTGRES ? 'PostgreSQL queue' : 'Redis queue';
      if (file) appendFileSync(file, `${JSON.stringify({ name: `${name} [${queue}]`, held })}\n`);
    }
  });
}
