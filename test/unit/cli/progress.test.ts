import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { progressReporter } from '../../../src/cli/progress.js';
import type { Job } from '../../../src/types/api.js';

const job = (status: Job['status'], progress: number): Job => ({
  id: 'j1',
  type: 'export',
  table_id: 1,
  status,
  progress,
  rows: 0,
  file_url: null,
  file_type: 'csv',
  file_name: null,
  errors: [],
  created_at: 0,
  finished_at: null,
});

function capture(tty: boolean) {
  const stream = Object.assign(new PassThrough(), {
    isTTY: tty,
    columns: 80,
    cursorTo() {
      return true;
    },
    clearLine() {
      return true;
    },
    moveCursor() {
      return true;
    },
  });
  let text = '';
  stream.on('data', (c) => (text += String(c)));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

test('not a terminal: one plain line per change', () => {
  const out = capture(false);
  const p = progressReporter('j1', out.stream, false);
  p.update(job('queued', 0));
  p.update(job('running', 40));
  p.update(job('succeeded', 100));
  p.stop();
  assert.equal(out.text(), 'job j1: queued\njob j1: running 40%\njob j1: succeeded\n');
});

test('a terminal: a bar with the percentage and status, ending at 100%', () => {
  const out = capture(true);
  const p = progressReporter('j1', out.stream, true);
  p.update(job('running', 40));
  p.update(job('succeeded', 100));
  p.stop();
  assert.match(out.text(), /j1 \|[█░]+\| 100% \| succeeded/);
  assert.doesNotMatch(out.text(), /job j1: /);
});
