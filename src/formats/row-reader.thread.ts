/**
 * The worker thread of row-reader-thread.ts: imports the format's reader module (alone: not the
 * registry, whose formats start things when loaded), reads the file and posts its rows in batches,
 * waiting while `credit` batches are unacknowledged. Ends with `end`, or `error` with what the
 * reader threw, described so the job's thread makes it again as the same class.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as appErrors from '../errors.js';
import { keepPrototypesFast } from '../runtime/fast-prototypes.js';
import type { RowReader } from './format.js';
import type { ThreadBatch, ThreadError, ThreadMessage, ThreadStart } from './row-reader-thread.js';
import { UnstorableValue } from './values.js';

const start = workerData as ThreadStart;
const port = parentPort as NonNullable<typeof parentPort>;

let credit = start.credit;
let wake: (() => void) | undefined;
/** Aborted by `stop`: the reader ends at its next chunk and closes the file (terminating would leave its descriptor open). */
const stop = new AbortController();
port.on('message', (m: number | 'stop') => {
  if (m === 'stop') stop.abort(new Error('The import stopped reading the file.'));
  else credit++;
  wake?.();
  wake = undefined;
});

function post(m: ThreadMessage): void {
  port.postMessage(m);
}

/** The export of `ns` that is `ctor`, if any. */
function exportOf(ns: Record<string, unknown>, ctor: unknown): string | undefined {
  for (const [name, value] of Object.entries(ns)) if (value === ctor) return name;
  return undefined;
}

function cloneable(v: unknown): boolean {
  try {
    structuredClone(v);
    return true;
  } catch {
    return false;
  }
}

function describe(err: unknown, reader: Record<string, unknown>): ThreadError {
  if (!(err instanceof Error)) return { value: cloneable(err) ? err : String(err) };
  const inErrors = exportOf(appErrors, err.constructor);
  const inReader = inErrors === undefined ? exportOf(reader, err.constructor) : undefined;
  const name = inErrors ?? inReader;
  if (name === undefined) return { value: err };
  const props: Record<string, [unknown, boolean]> = {};
  for (const key of Object.getOwnPropertyNames(err)) {
    const d = Object.getOwnPropertyDescriptor(err, key);
    if (d && 'value' in d && cloneable(d.value)) props[key] = [d.value, d.enumerable === true];
  }
  return { from: inErrors !== undefined ? 'errors' : 'reader', name, props };
}

/** The keys of the rows in `values`; those of the last batch sent. */
let keys: string[] = [];
let sentKeys: string[] | undefined;
let lines: number[] = [];
let values: unknown[] = [];
let marks: Array<[number, string]> = [];

/** Posts the batch once the consumer has credit left. */
async function send(): Promise<void> {
  while (credit <= 0) {
    stop.signal.throwIfAborted();
    await new Promise<void>((resolve) => (wake = resolve));
  }
  stop.signal.throwIfAborted();
  credit--;
  const batch: ThreadBatch = { kind: 'rows', lines, values };
  if (keys !== sentKeys) batch.keys = keys;
  if (marks.length) batch.marks = marks;
  post(batch);
  sentKeys = keys;
  lines = [];
  values = [];
  marks = [];
}

/** Whether `row`'s keys are `keys`, in order. */
function keyed(row: Record<string, unknown>): boolean {
  let i = 0;
  for (const key in row) if (keys[i++] !== key) return false;
  return i === keys.length;
}

async function run(): Promise<void> {
  let reader: Record<string, unknown> = {};
  try {
    reader = (await import(start.module.url)) as Record<string, unknown>;
    const read = reader[start.module.name] as RowReader;
    keepPrototypesFast();
    for await (const { line, row } of read(start.path, { ...start.opts, signal: stop.signal })) {
      if (!keyed(row)) {
        // Rows of other keys start a batch of their own (a reader's rows usually all have the same).
        if (lines.length) await send();
        keys = Object.keys(row);
      }
      lines.push(line);
      for (const key in row) {
        const v = row[key];
        if (v instanceof UnstorableValue) {
          marks.push([values.length, v.reason]);
          values.push(null);
        } else values.push(v);
      }
      if (lines.length >= start.batchRows) await send();
    }
    if (lines.length) await send();
    post({ kind: 'end' });
  } catch (err) {
    // Stopped: nobody reads what follows.
    if (stop.signal.aborted) return port.unref();
    try {
      // The rows read before the error go first, as the reader yielded them.
      if (lines.length) await send();
      post({ kind: 'error', error: describe(err, reader) });
    } catch {
      post({ kind: 'error', error: { value: String(err) } });
    }
  }
  // Nothing more to wait for: the thread exits (what it posted is delivered before its 'exit').
  port.unref();
}

void run();
