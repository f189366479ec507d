/**
 * A `rows` format's reader run in a worker thread beside the import encoder (the format's
 * `thread`, format.ts): the reader's CPU (inflating, decoding, scanning) leaves the job's thread,
 * which is left the encoder's. The thread (row-reader.thread.ts) imports the reader's module alone,
 * reads the local file and posts rows in batches; a batch is acknowledged once its rows are in the
 * stream, and the thread waits while `credit` batches are unacknowledged, so it never runs more
 * than that ahead of the encoder and memory stays flat whatever the file's size.
 *
 * What the in-thread reader gives arrives the same: rows are structured clones (numbers, bigints,
 * booleans, Dates, strings, null keep their types; `line` too), an `UnstorableValue` is sent as
 * its reason and made again here, and an error thrown in the thread is made again as the same
 * class (an export of errors.ts or of the reader's module: `InvalidFileError`, `UnknownSheetError`)
 * with the same message and fields, so the job fails with the same `error_code` and sentence.
 *
 * The job's signal (cancel, deadline) and the stream's end, however it ends, stop the thread: it is
 * asked to stop (its reader's signal is aborted, so the reader closes the file at its next chunk,
 * which terminating it would leave open), and terminated if it has not exited within
 * {@link THREAD_STOP_MS}. `stopped()` waits until it is gone.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import * as appErrors from '../errors.js';
import type { RowReaderModule, RowReadOptions } from './format.js';
import { UnstorableValue } from './values.js';

/** Rows per message: enough that the cost of a message is nothing beside its rows'. */
export const THREAD_BATCH_ROWS = 500;
/**
 * Batches the thread may have posted and not had acknowledged. With 500 rows and 2 of them the
 * worker's peak was 11 MB lower than with 1000 and 4 (1M narrow xlsx rows), in the same time.
 */
export const THREAD_CREDIT = 2;

let live = 0;

/** Reader threads started and not yet exited (tests check that none outlives its import). */
export function liveReaderThreads(): number {
  return live;
}

/**
 * The thread's young generation: the reader's garbage is the short-lived text of each chunk. With
 * the worker's 8 MB semi-spaces the worker peaked at 202 MB on 1M narrow xlsx rows, at 191 MB with
 * this, in the same time (docs/benchmarks.md).
 */
const THREAD_HEAP = { maxYoungGenerationSizeMb: 4 };

/** How long a thread asked to stop may take to end by itself before it is terminated. */
export const THREAD_STOP_MS = 1000;

/** What the thread is started with. */
export interface ThreadStart {
  module: RowReaderModule;
  path: string;
  opts: Omit<RowReadOptions, 'signal'>;
  batchRows: number;
  credit: number;
}

/**
 * Rows of the same keys, flat: row i's value of `keys[k]` is `values[i * keys.length + k]`. Made
 * into objects here, which costs the job's thread less than cloned objects (each of which carries
 * its keys: measured 2.4× the time to deserialize). `keys` is left out while they stay the same.
 */
export interface ThreadBatch {
  kind: 'rows';
  keys?: string[];
  lines: number[];
  values: unknown[];
  /** Values the thread could not send as they are: `[index in values, UnstorableValue's reason]`. */
  marks?: Array<[number, string]>;
}

/** An error as it crosses: the export it is an instance of, and its own properties. */
export interface ThreadError {
  /** `errors`: src/errors.ts; `reader`: the reader's module. */
  from?: 'errors' | 'reader';
  name?: string;
  /** Own properties: value and whether it is enumerable. */
  props?: Record<string, [unknown, boolean]>;
  /** Anything else thrown, as structured clone makes it. */
  value?: unknown;
}

export type ThreadMessage = ThreadBatch | { kind: 'end' } | { kind: 'error'; error: ThreadError };

/**
 * Starts the thread: the built `.js` beside this file (dist/), or from the sources under tsx
 * (tests, `TABLEPORT_FROM_SOURCE`) the `.ts`. The thread inherits execArgv (`--import tsx`), but
 * neither Node 20 nor 22 gives a thread the hooks that registers (Node 22 strips the types of a
 * `.ts` entry itself, and then finds no `./x.js` beside it), so the thread registers tsx first.
 */
function startThread(start: ThreadStart): Worker {
  const options = { workerData: start, resourceLimits: THREAD_HEAP };
  const js = new URL('./row-reader.thread.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, options);
  const ts = new URL('./row-reader.thread.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(boot, { ...options, eval: true });
}

/** An error from the thread as the class it was thrown as. */
export function errorFromThread(e: ThreadError, reader: Record<string, unknown>): unknown {
  const ns: Record<string, unknown> | undefined = e.from === 'errors' ? appErrors : e.from === 'reader' ? reader : undefined;
  const ctor = ns && e.name ? ns[e.name] : undefined;
  if (typeof ctor !== 'function' || !e.props) return e.value;
  // A native error (as `new` makes one) whose prototype is the class's, without calling its constructor.
  const err = Reflect.construct(Error, [], ctor) as Error;
  for (const [key, [value, enumerable]] of Object.entries(e.props)) {
    Object.defineProperty(err, key, { value, enumerable, writable: true, configurable: true });
  }
  return err;
}

export interface ThreadRows {
  /** The rows, in objectMode, as the reader yields them. */
  rows: Readable;
  /** Terminates the thread if it still runs; resolves once it has exited. */
  stopped: () => Promise<void>;
  /** Batches received so far (for tests of the bound). */
  readonly batches: number;
}

/**
 * Runs `module`'s reader on `path` in a worker thread. The reader's module is imported here too,
 * (usually already loaded: the format imports it) to make its errors again.
 */
export async function readRowsInThread(
  module: RowReaderModule,
  path: string,
  opts: RowReadOptions,
  tuning: { batchRows?: number; credit?: number } = {},
): Promise<ThreadRows> {
  const { signal, ...rest } = opts;
  signal?.throwIfAborted();
  const reader = (await import(module.url)) as Record<string, unknown>;
  const start: ThreadStart = {
    module,
    path,
    opts: rest,
    batchRows: tuning.batchRows ?? THREAD_BATCH_ROWS,
    credit: tuning.credit ?? THREAD_CREDIT,
  };
  const worker = startThread(start);
  live++;
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      live--;
      resolve();
    }),
  );
  const queue: Array<{ keys: string[]; lines: number[]; values: unknown[] }> = [];
  let current: (typeof queue)[number] | undefined;
  let at = 0;
  let keys: string[] = [];
  let ended = false;
  let received = 0;
  let failure: unknown;
  let failed = false;
  /** The stream asked for rows and has had none since. */
  let wanting = false;

  const rows = new Readable({
    objectMode: true,
    highWaterMark: 256,
    read() {
      wanting = true;
      drain();
    },
    destroy(err, cb) {
      halt();
      signal?.removeEventListener('abort', onAbort);
      cb(err);
    },
  });

  /** Pushes what has arrived until the stream is full; acknowledges each batch once pushed. */
  function drain(): void {
    for (;;) {
      if (rows.destroyed) return;
      if (!current) {
        current = queue.shift();
        at = 0;
        if (!current) {
          if (failed) rows.destroy(failure as Error);
          else if (ended) rows.push(null);
          return;
        }
      }
      const { keys: k, lines, values } = current;
      const n = k.length;
      let more = true;
      while (at < lines.length && more) {
        const row: Record<string, unknown> = {};
        for (let c = 0, v = at * n; c < n; c++, v++) row[k[c] as string] = values[v];
        more = rows.push({ line: lines[at++], row });
      }
      if (!more) wanting = false;
      if (at === lines.length) {
        current = undefined;
        worker.postMessage(1);
      }
      if (!more) return;
    }
  }

  let halting = false;
  /** Asks the thread to stop; terminates it if it has not exited in time. */
  function halt(): void {
    if (halting) return;
    halting = true;
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), THREAD_STOP_MS);
    void exited.then(() => clearTimeout(timer));
  }

  function onAbort(): void {
    rows.destroy(signal?.reason as Error);
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  worker.on('message', (m: ThreadMessage) => {
    if (rows.destroyed) return;
    if (m.kind === 'rows') {
      received++;
      if (m.keys) keys = m.keys;
      if (m.marks) for (const [i, reason] of m.marks) m.values[i] = new UnstorableValue(reason);
      queue.push({ keys, lines: m.lines, values: m.values });
    } else if (m.kind === 'end') {
      ended = true;
    } else {
      failed = true;
      failure = errorFromThread(m.error, reader);
    }
    // Rows before an error or the end are pushed first, in the order the reader yielded them; an
    // error then destroys the stream, as Readable.from does when the reader throws in this thread.
    if (wanting) drain();
  });
  worker.once('messageerror', (err) => rows.destroy(err));
  worker.once('error', (err) => rows.destroy(err));
  worker.once('exit', (code) => {
    if (!ended && !failed && !rows.destroyed) rows.destroy(new Error(`The thread reading the file stopped (exit code ${code}).`));
  });

  return {
    rows,
    stopped: () => {
      halt();
      return exited;
    },
    get batches() {
      return received;
    },
  };
}
