import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createDuckdbParquetWriter, duckdbAvailable } from '../../../../src/formats/parquet/parquet-duckdb.writer.js';
import { readParquetRows } from '../../../../src/formats/parquet/index.js';
import type { ExportColumn } from '../../../../src/formats/format.js';
import { collect, tempDir } from './awkward-rows.js';
import { waitFor } from '../../../helpers/wait.js';

const dir = tempDir('tableport-parquet-duckdb-');
const COLUMNS: ExportColumn[] = [
  { name: 'id', type: 'string' },
  { name: 'n', type: 'integer' },
  { name: 'x', type: 'number' },
  { name: 'ok', type: 'boolean' },
  { name: 'at', type: 'date' },
  { name: 'tags', type: 'array' },
];

async function write(csv: string[], name: string): Promise<string> {
  const chunks: Buffer[] = [];
  await pipeline(
    Readable.from(csv.map((c) => Buffer.from(c))),
    createDuckdbParquetWriter(COLUMNS),
    new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    }),
  );
  const file = join(dir(), name);
  await writeFile(file, Buffer.concat(chunks));
  return file;
}

describe('Parquet through DuckDB', { skip: !(await duckdbAvailable()) && 'DuckDB does not load here' }, () => {
  it("writes PostgreSQL's CSV as typed columns: '' vs NULL, quoted line breaks, 64-bit integers, dates to the millisecond", async () => {
    const file = await write(
      ['a,9223372036854775807,1.5,true,2024-02-29T23:59:59.123Z,"[""x,y"", 1]"\n"",-1,-0.5,f', 'alse,,[]\n', '"line\nbreak",,,,,\n'],
      'typed.parquet',
    );
    const rows = (await collect(readParquetRows(file))).map((r) => r.row);
    assert.deepEqual(rows, [
      { id: 'a', n: 9223372036854775807n, x: 1.5, ok: true, at: new Date('2024-02-29T23:59:59.123Z'), tags: '["x,y", 1]' },
      { id: '', n: -1, x: -0.5, ok: false, at: null, tags: '[]' },
      { id: 'line\nbreak', n: null, x: null, ok: null, at: null, tags: null },
    ]);
  });

  it('writes a file of no rows for no CSV', async () => {
    const file = await write([], 'empty.parquet');
    assert.deepEqual(await collect(readParquetRows(file)), []);
  });

  it("fails the stream, with DuckDB's words, on CSV it cannot read", async () => {
    await assert.rejects(write(['a,not a number,1,true,,\n'], 'bad.parquet'), /DuckDB could not write the Parquet file/);
  });

  it('a source that fails midway (a COPY that breaks) fails the stream and leaves no DuckDB process nor files behind', async () => {
    // A temp folder of this test's own: other test files write Parquet exports at the same time.
    const own = await mkdtemp(join(tmpdir(), 'tp-duckdb-writer-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = own;
    const left = async () => (await readdir(own)).filter((f) => f.startsWith('tableport-parquet-')).length;
    try {
      async function* rows() {
        for (let i = 0; i < 500; i++) {
          yield Buffer.from(`a${i},${i},1,true,,[]\n`.repeat(50));
          await new Promise((r) => setImmediate(r));
        }
        throw new Error('the COPY broke');
      }
      const writer = createDuckdbParquetWriter(COLUMNS);
      await assert.rejects(pipeline(Readable.from(rows()), writer, new Writable({ write: (_c, _e, cb) => cb() })), /the COPY broke/);
      // The clean-up runs on the destruction: its files go, and DuckDB's process with them.
      await waitFor('the writer to remove its folder', async () => (await left()) === 0, { timeoutMs: 5000, intervalMs: 10 });
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await rm(own, { recursive: true, force: true });
    }
  });
});
