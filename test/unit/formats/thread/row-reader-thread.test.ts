/**
 * A `rows` format's reader in a worker thread (src/formats/row-reader-thread.ts): the rows, their
 * values and the errors arrive as the reader in the job's thread gives them; the thread runs at
 * most a few batches ahead of a slow consumer; the job's signal and a stream torn down terminate
 * it, and no thread outlives its import.
 */
import assert from 'node:assert/strict';
import { copyFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { AppError, InvalidFileError } from '../../../../src/errors.js';
import type { ImportedRow, RowReaderModule, RowReadOptions } from '../../../../src/formats/format.js';
import { openImportInput } from '../../../../src/formats/import-pipeline.js';
import { liveReaderThreads, readRowsInThread, THREAD_STOP_MS } from '../../../../src/formats/row-reader-thread.js';
import { readParquetRows } from '../../../../src/formats/parquet/index.js';
import { UnstorableValue } from '../../../../src/formats/values.js';
import { readXlsxRows, UnknownSheetError } from '../../../../src/formats/xlsx/index.js';
import { xlsxFormat } from '../../../../src/formats/xlsx.format.js';
import { xlsxOf } from '../../../helpers/xlsx.js';
import { collect, tempDir } from '../parquet/awkward-rows.js';
import { defaults, FIELDS } from '../helpers.js';
import { craftedRows, OddFileError } from './readers.fixture.js';

const dir = tempDir('tableport-thread-');

/** This process's open file descriptors (Linux). */
async function openFiles(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

/** A workbook of 30,000 rows. */
async function bigWorkbook(): Promise<Buffer> {
  const rows: Array<Array<string | number>> = [['title', 'qty']];
  for (let i = 0; i < 30_000; i++) rows.push([`row ${i}`, i]);
  return xlsxOf(rows);
}
const LIBREOFFICE = (name: string) => fileURLToPath(new URL(`../../../fixtures/formats/libreoffice/${name}`, import.meta.url));
const FIXTURE = (name: string) => fileURLToPath(new URL(`../../../fixtures/formats/${name}`, import.meta.url));
const fixtureReader = (name: string): RowReaderModule => ({ url: new URL('./readers.fixture.js', import.meta.url).href, name });

function xlsxThread(): RowReaderModule {
  const shape = xlsxFormat.import;
  assert.ok(shape?.kind === 'rows' && shape.thread, 'xlsx imports read in a thread');
  return shape.thread;
}

/** Everything the thread gives, or what it threw; the thread is gone when this returns. */
async function throughThread(
  module: RowReaderModule,
  path: string,
  opts: RowReadOptions = {},
): Promise<{ rows: ImportedRow[]; error?: unknown }> {
  const t = await readRowsInThread(module, path, opts);
  const rows: ImportedRow[] = [];
  try {
    for await (const r of t.rows) rows.push(r as ImportedRow);
    return { rows };
  } catch (error) {
    return { rows, error };
  } finally {
    await t.stopped();
  }
}

async function inThisThread(path: string, opts: RowReadOptions = {}): Promise<{ rows: ImportedRow[]; error?: unknown }> {
  const rows: ImportedRow[] = [];
  try {
    for await (const r of readXlsxRows(path, opts)) rows.push(r);
    return { rows };
  } catch (error) {
    return { rows, error };
  }
}

/** The same class (not a look-alike), message and response. */
function sameError(got: unknown, want: unknown): void {
  assert.ok(want instanceof AppError, String(want));
  assert.ok(got instanceof Error, String(got));
  assert.equal(Object.getPrototypeOf(got), Object.getPrototypeOf(want), `${got.name} is a ${want.name}`);
  assert.equal(got.message, want.message);
  assert.deepEqual((got as AppError).toResponse(), want.toResponse());
}

describe('a rows reader in a worker thread', () => {
  it('gives the rows and values of LibreOffice workbooks as the reader in this thread does', async () => {
    const cases: Array<[string, RowReadOptions]> = [
      [LIBREOFFICE('rich.xlsx'), {}],
      [LIBREOFFICE('workbook.xlsx'), { sheet: 'Scores' }],
      [LIBREOFFICE('workbook.xlsx'), { sheet: '1' }],
      [FIXTURE('sheetjs-dates.xlsx'), { sheet: 'Data' }],
      [FIXTURE('openpyxl.xlsx'), {}],
    ];
    for (const [path, opts] of cases) {
      const here = await inThisThread(path, opts);
      assert.equal(here.error, undefined, `${path} ${JSON.stringify(opts)}`);
      assert.ok(here.rows.length > 0);
      const there = await throughThread(xlsxThread(), path, opts);
      assert.equal(there.error, undefined);
      assert.deepStrictEqual(there.rows, here.rows, `${path} ${JSON.stringify(opts)}`);
    }
    assert.equal(liveReaderThreads(), 0);
  });

  it('gives the rows and values of Parquet files as the reader in this thread does', async () => {
    const reader: RowReaderModule = {
      url: new URL('../../../../src/formats/parquet/parquet-import.reader.js', import.meta.url).href,
      name: 'readParquetRows',
    };
    for (const name of ['pyarrow-snappy.parquet', 'pyarrow-zstd.parquet', 'parquet-testing-nan_in_stats.parquet']) {
      const here = await collect(readParquetRows(FIXTURE(name)));
      assert.ok(here.length > 0);
      const there = await throughThread(reader, FIXTURE(name));
      assert.equal(there.error, undefined, name);
      assert.deepStrictEqual(there.rows, here, name);
    }
    const truncated = join(dir(), 'truncated.parquet');
    await copyFile(FIXTURE('pyarrow-snappy.parquet'), truncated);
    await truncate(truncated, Math.floor((await stat(truncated)).size / 2));
    const here = await collect(readParquetRows(truncated)).catch((err: unknown) => err);
    assert.ok(here instanceof InvalidFileError, String(here));
    sameError((await throughThread(reader, truncated)).error, here);
  });

  it('fails with the class, message and error_code the reader throws in this thread', async () => {
    const truncated = join(dir(), 'truncated.xlsx');
    await copyFile(LIBREOFFICE('rich.xlsx'), truncated);
    await truncate(truncated, Math.floor((await stat(truncated)).size / 2));
    const empty = join(dir(), 'empty.xlsx');
    await writeFile(empty, '');
    const cases: Array<[string, RowReadOptions, new (...a: never[]) => Error]> = [
      [LIBREOFFICE('workbook.xlsx'), {}, InvalidFileError], // two sheets with rows, none named
      [LIBREOFFICE('workbook.xlsx'), { sheet: 'nope' }, UnknownSheetError],
      [truncated, {}, InvalidFileError],
      [empty, {}, InvalidFileError],
      [join(dir(), 'missing.xlsx'), {}, Error],
    ];
    for (const [path, opts, type] of cases) {
      const here = await inThisThread(path, opts);
      const there = await throughThread(xlsxThread(), path, opts);
      assert.ok(here.error instanceof type, String(here.error));
      assert.deepStrictEqual(there.rows, here.rows);
      if (here.error instanceof AppError) sameError(there.error, here.error);
      else assert.equal((there.error as Error).message, (here.error as Error).message);
    }
    assert.equal(liveReaderThreads(), 0);
  });

  it('keeps every kind of value: bigints, -0, NaN, Dates, invalid Dates, null, UnstorableValue', async () => {
    const there = await throughThread(fixtureReader('readCrafted'), 'unused');
    assert.equal(there.error, undefined);
    const want = craftedRows();
    // assert has no Invalid Date equal to another (NaN !== NaN): compared by its text apart.
    const bad = (rows: ImportedRow[]) => rows.map(({ row }) => (row.bad instanceof Date ? String(row.bad) : row.bad));
    assert.deepEqual(bad(there.rows), ['Invalid Date', undefined]);
    const valid = (rows: ImportedRow[]) => rows.map(({ line, row: { bad: _, ...row } }) => ({ line, row }));
    assert.deepStrictEqual(valid(there.rows), valid(want));
    assert.ok(there.rows[0]?.row.unstorable instanceof UnstorableValue);
    assert.ok(there.rows[1]?.row.none instanceof UnstorableValue);
    assert.ok(Object.is(there.rows[0]?.row.zero, -0));
    assert.deepEqual(Object.keys(there.rows[0]?.row ?? {}), Object.keys(want[0]?.row ?? {}), 'keys in the same order');
  });

  it("fails with the error after rows, in order: errors.ts's, the reader module's own, and others", async () => {
    // As with the reader in the job's thread (Readable.from), the error destroys the stream: rows
    // not yet read from its buffer (at most its 256) go with it, the job fails either way.
    const prefix = (rows: ImportedRow[], n: number) => {
      assert.ok(rows.length <= n && rows.length >= n - 256, `${rows.length} of ${n} rows`);
      for (const [i, r] of rows.entries()) assert.equal(r.row.n, i);
    };
    const invalid = await throughThread(fixtureReader('readMany'), '2500', { sheet: 'invalid' });
    prefix(invalid.rows, 2500);
    sameError(invalid.error, new InvalidFileError('The file is damaged after its rows.', { at: 2500 }));

    const odd = await throughThread(fixtureReader('readMany'), '3', { sheet: 'odd' });
    prefix(odd.rows, 3);
    assert.ok(odd.error instanceof OddFileError);
    sameError(odd.error, new OddFileError('The file is odd.', 'xl/odd.xml'));
    assert.equal(odd.error.part, 'xl/odd.xml');
    assert.equal(odd.error.name, 'OddFileError');

    const type = await throughThread(fixtureReader('readMany'), '0', { sheet: 'type' });
    assert.ok(type.error instanceof Error);
    assert.equal(type.error.message, 'not a reader error');
    assert.ok(!(type.error instanceof AppError));

    const thrown = await throughThread(fixtureReader('readMany'), '0', { sheet: 'string' });
    assert.equal(thrown.error, 'a thrown string');
    assert.equal(liveReaderThreads(), 0);
  });

  it('runs at most a few batches ahead of a slow consumer', async () => {
    const batchRows = 100;
    const credit = 2;
    const t = await readRowsInThread(fixtureReader('readMany'), '100000', {}, { batchRows, credit });
    // The stream's buffer (256 rows) takes what it asks for; beyond that, `credit` batches wait.
    const bound = (consumed: number) => Math.ceil((consumed + 256) / batchRows) + credit + 1;
    // The thread has started (under tsx it compiles its modules first) and filled what it may.
    for (let waited = 0; t.batches < credit && waited < 10_000; waited += 50) await sleep(50);
    await sleep(300);
    assert.ok(t.batches >= credit, 'the thread ran');
    assert.ok(t.batches <= bound(0), `${t.batches} batches with nothing read`);
    const it = t.rows[Symbol.asyncIterator]();
    let consumed = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 150; i++) {
        const next = await it.next();
        assert.equal((next.value as ImportedRow).row.n, consumed++);
      }
      await sleep(50);
      assert.ok(t.batches <= bound(consumed), `${t.batches} batches after ${consumed} rows read`);
    }
    for (let next = await it.next(); !next.done; next = await it.next()) assert.equal((next.value as ImportedRow).row.n, consumed++);
    assert.equal(consumed, 100_000);
    assert.equal(t.batches, 1000);
    await t.stopped();
    assert.equal(liveReaderThreads(), 0);
  });

  it("stops the thread when the job's signal is aborted, even in a loop that never yields", async () => {
    for (const path of ['rows', 'busy']) {
      const ac = new AbortController();
      const t = await readRowsInThread(fixtureReader('readForever'), path, { signal: ac.signal });
      assert.equal(liveReaderThreads(), 1);
      const reading = collect(t.rows as AsyncIterable<ImportedRow>);
      await sleep(200);
      const reason = new Error('The job was cancelled.');
      ac.abort(reason);
      await assert.rejects(reading, (err) => err === reason);
      const began = Date.now();
      await t.stopped();
      assert.ok(Date.now() - began < 2000, 'promptly');
      assert.equal(liveReaderThreads(), 0, path);
    }
  });

  it('stops the thread when the stream is torn down early, and the reader closes its file', async () => {
    const path = join(dir(), 'big.xlsx');
    await writeFile(path, await bigWorkbook());
    const fds = await openFiles();
    const t = await readRowsInThread(xlsxThread(), path, {}, { batchRows: 100, credit: 1 });
    const it = t.rows[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) await it.next();
    await it.return?.();
    const began = Date.now();
    await t.stopped();
    assert.ok(Date.now() - began < THREAD_STOP_MS, 'it ended by itself, not terminated');
    assert.equal(liveReaderThreads(), 0);
    assert.equal(await openFiles(), fds);
  });

  it('an xlsx import cancelled midway leaves no thread, no open file and no temp file', async () => {
    const file = await bigWorkbook();
    const before = (await readdir(tmpdir())).filter((d) => d.startsWith('tableport-import-'));
    const fds = await openFiles();
    const ac = new AbortController();
    const input = await openImportInput(async () => Readable.from([file]), {
      fileType: 'xlsx',
      gzip: false,
      maxInflatedBytes: 64 * 1024 * 1024,
      signal: ac.signal,
      encoder: { fields: FIELDS, defaults: defaults(), maxRows: 1_000_000 },
    });
    assert.equal(liveReaderThreads(), 1);
    let written = 0;
    const sink = new Writable({
      write(_c, _e, cb) {
        if (++written === 3) ac.abort(new Error('The job was cancelled.'));
        setTimeout(cb, 5);
      },
    });
    await assert.rejects(pipeline([...input.stages, sink] as unknown as [Readable, Writable]), /cancelled/);
    await input.cleanup();
    assert.equal(liveReaderThreads(), 0);
    assert.equal(await openFiles(), fds, 'the thread closed the workbook before it ended');
    assert.deepEqual(
      (await readdir(tmpdir())).filter((d) => d.startsWith('tableport-import-')),
      before,
    );
  });
});
