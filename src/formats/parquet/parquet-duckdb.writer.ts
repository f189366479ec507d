/**
 * Parquet export through DuckDB (issue 22): PostgreSQL's CSV of the selection (no header) is written
 * into a named pipe that DuckDB's CSV reader reads while PostgreSQL still writes, and DuckDB's
 * Parquet writer (C++, snappy: the importer reads it in WebAssembly, zstd in a slower JavaScript
 * worker) writes the file to a temporary directory; the file is then streamed
 * out and the directory removed. Both run at once, so the export costs about what a CSV export
 * does (docs/benchmarks.md has the figures against the JavaScript writer, parquet-export.writer.ts).
 *
 * Memory: DuckDB runs in a child process for the export (one thread, a 48 MB buffer limit: 32 MB
 * ran out on the bench's wide rows; 16,384-row groups), so what it takes is its own (~130 MB peak
 * at 200,000 rows) and returns when it ends; the worker's stays flat. The pipe is opened
 * read-write before DuckDB opens it and closed only once DuckDB has it open, and written through
 * a non-blocking socket, so a DuckDB that fails or is killed never leaves a thread blocked on it.
 *
 * Types: string (and array and object, as their JSON text) VARCHAR → UTF8 strings, integer BIGINT →
 * INT64, number DOUBLE, boolean BOOLEAN, date TIMESTAMPTZ → INT64 TIMESTAMP (UTC, microseconds),
 * every column nullable; PostgreSQL's `""` stays an empty string and an empty field NULL.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants, createReadStream, open as openCb } from 'node:fs';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { ExportColumn } from '../format.js';

/** DuckDB's own memory limit for the conversion (its buffers; the library itself adds ~20 MB). */
export const DUCKDB_MEMORY_LIMIT = '48MB';
/** Rows per row group of the DuckDB-written file: small groups keep DuckDB's writer buffers small. */
export const DUCKDB_ROW_GROUP_ROWS = 16_384;
/** DuckDB's CSV read buffer (its default, 32 MiB, does not fit the memory limit); also the longest row it takes. */
const CSV_BUFFER_BYTES = 8 * 1024 * 1024;

const DUCK_TYPES: Record<ExportColumn['type'], string> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  number: 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'TIMESTAMPTZ',
  array: 'VARCHAR',
  object: 'VARCHAR',
};

const openFd = promisify(openCb) as (path: string, flags: number) => Promise<number>;

function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** The COPY that turns PostgreSQL's CSV at `csv` into the Parquet file `parquet`. */
export function duckdbParquetSql(columns: readonly ExportColumn[], csv: string, parquet: string): string {
  const types = columns.map((c) => `${lit(c.name)}: ${lit(DUCK_TYPES[c.type])}`).join(', ');
  // Exactly PostgreSQL's CSV: no sniffing, `""` an empty string (allow_quoted_nulls off), an empty
  // field NULL, quoted line breaks inside values; one reader thread on a pipe.
  const read =
    `read_csv(${lit(csv)}, columns = {${types}}, header = false, delim = ',', quote = '"', escape = '"', ` +
    `nullstr = '', allow_quoted_nulls = false, auto_detect = false, strict_mode = true, parallel = false, buffer_size = ${CSV_BUFFER_BYTES}, max_line_size = ${CSV_BUFFER_BYTES}, ` +
    `new_line = '\\n', timestampformat = '%Y-%m-%dT%H:%M:%S.%gZ')`;
  return `COPY (SELECT * FROM ${read}) TO ${lit(parquet)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${DUCKDB_ROW_GROUP_ROWS})`;
}

/**
 * Whether DuckDB's node API loads on this machine (its native library is an optional package of
 * its own, for this platform): tried once, in a child process, so the worker never loads it.
 */
let available: Promise<boolean> | undefined;
export function duckdbAvailable(): Promise<boolean> {
  available ??= new Promise<boolean>((resolve) => {
    // The pipe is closed once DuckDB's process has it open, which /proc tells: Linux only.
    if (process.platform !== 'linux') {
      resolve(false);
      return;
    }
    let api: string;
    try {
      api = pathToFileURL(createRequire(import.meta.url).resolve('@duckdb/node-api')).href;
    } catch {
      resolve(false);
      return;
    }
    const child = spawn(process.execPath, ['--input-type=module', '-e', 'await import(process.argv[1])', api], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
  return available;
}

/**
 * A writable socket on the pipe, opened read-write before DuckDB opens it: a pipe with a writer
 * never reads as ended, however DuckDB opens and polls it, and opening read-write never waits.
 */
async function pipeWriter(fifo: string): Promise<Socket> {
  // A bare descriptor, not a FileHandle: the socket owns and closes it.
  const fd = await openFd(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  return new Socket({ fd, readable: false, writable: true });
}

/** How many descriptors process `pid` has open on `path` (Linux's /proc; -1 where there is none). */
async function openedBy(pid: number, path: string): Promise<number> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return -1;
  }
  let n = 0;
  for (const fd of fds) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === path) n++;
  return n;
}

async function write(sock: Socket, chunk: Buffer, failed: () => Error | undefined): Promise<void> {
  if (sock.destroyed) throw failed() ?? new Error('the Parquet conversion stopped reading');
  if (sock.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      sock.off('drain', onDrain);
      sock.off('error', done);
      sock.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(failed() ?? new Error('the Parquet conversion stopped reading'));
    sock.on('drain', onDrain);
    sock.on('error', done);
    sock.on('close', onClose);
  });
}

/** PostgreSQL's CSV in, the Parquet file's bytes out. */
// The child's program: DuckDB's node API, found where this module finds it, runs one statement.
const CHILD = `
const [api, sql, limit, dir] = process.argv.slice(1);
const { DuckDBInstance } = await import(api);
try {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: limit, preserve_insertion_order: 'true', temp_directory: dir });
  const con = await instance.connect();
  await con.run(sql);
  con.closeSync();
  instance.closeSync();
} catch (err) {
  process.stderr.write(String(err?.message ?? err));
  process.exit(1);
}`;

/**
 * DuckDB runs in a child process of its own: its memory (the library, its buffers, what its
 * allocator keeps after) is the child's and ends with it, so the worker's stays where it was.
 */
function runDuckdb(sql: string, dir: string): { done: Promise<void>; child: ChildProcess } {
  const api = pathToFileURL(createRequire(import.meta.url).resolve('@duckdb/node-api')).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, api, sql, DUCKDB_MEMORY_LIMIT, dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 4000) stderr += c.toString();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(stderr.trim() || `DuckDB's process ended with ${signal ?? `code ${code}`}`));
    });
  });
  return { done, child };
}

export function createDuckdbParquetWriter(columns: readonly ExportColumn[]): Duplex {
  let dir: string | undefined;
  let sock: Socket | undefined;
  let child: ChildProcess | undefined;
  let cleaned: Promise<void> | undefined;
  // Run however the stream ends: a failed COPY or a cancelled job destroys the stream without
  // returning the generator, which would leave DuckDB waiting on the pipe and the files behind.
  const cleanUp = () => {
    cleaned ??= (async () => {
      sock?.destroy();
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (dir) await rm(dir, { recursive: true, force: true });
    })();
    return cleaned;
  };
  const duplex = Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    dir = await mkdtemp(join(tmpdir(), 'tableport-parquet-'));
    const fifo = join(dir, 'rows.csv');
    const parquet = join(dir, 'rows.parquet');
    try {
      await promisify(execFile)('mkfifo', ['-m', '600', fifo]);
      sock = await pipeWriter(fifo);
      let failure: Error | undefined;
      let settled = false;
      const run = runDuckdb(duckdbParquetSql(columns, fifo, parquet), dir);
      child = run.child;
      const converting = run.done
        .then(
          () => undefined,
          (err: unknown) => {
            failure = err instanceof Error ? err : new Error(String(err));
            sock?.destroy();
          },
        )
        .finally(() => {
          settled = true;
        });
      for await (const chunk of source) {
        if (failure) break;
        await write(sock, chunk, () => failure);
      }
      // Closing the last writer is the reader's end of file, and must not come before DuckDB has
      // opened the pipe (a pipe with no one on either end loses what it holds).
      const pid = child.pid;
      while (!settled && pid !== undefined && (await openedBy(pid, fifo)) === 0) await delay(2);
      // DuckDB may fail meanwhile, and its failure destroy the socket: then no end comes.
      const open = sock;
      if (!failure && !open.destroyed)
        await new Promise<void>((resolve) => {
          open.once('close', () => resolve());
          open.once('error', () => resolve());
          open.end(() => resolve());
        });
      open.destroy();
      await converting;
      if (failure) throw new Error(`DuckDB could not write the Parquet file: ${(failure as Error).message}`);
      yield* createReadStream(parquet, { highWaterMark: 256 * 1024 });
    } finally {
      await cleanUp();
    }
  });
  // Destroying a Duplex.from stream neither returns its generator nor (while the generator waits)
  // emits 'close': the clean-up hangs on the destruction itself.
  // On Node 22 its own destroy may even wait for a generator that never resumes (it waits on its
  // source): so the clean-up ends the destruction, and Duplex.from's destroy only aborts what it can.
  const destroy = duplex._destroy.bind(duplex);
  duplex._destroy = (err, cb) => {
    destroy(err, () => undefined);
    cleanUp().then(
      () => cb(err),
      (cleanupErr: unknown) => cb(err ?? (cleanupErr as Error)),
    );
  };
  return duplex;
}
