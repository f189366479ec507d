import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidFileError } from '../../../../src/errors.js';
import { createParquetExportWriter, readParquetRows } from '../../../../src/formats/parquet/index.js';
import type { ExportColumn } from '../../../../src/formats/columnar-types.js';
import { AWKWARD_ROWS, COLUMNS, FIELDS, collect, expectedRow, tempDir } from './awkward-rows.js';
import { duckdb, lit, query } from './duckdb.js';

const dir = tempDir('tableport-parquet-');
const db = duckdb();
let n = 0;

async function writeParquet(
  rows: Record<string, unknown>[],
  opts: { columns?: ExportColumn[]; rowGroupRows?: number } = {},
): Promise<string> {
  const file = join(dir(), `out-${++n}.parquet`);
  const writer = createParquetExportWriter({
    tableName: 't',
    fields: FIELDS,
    columns: opts.columns ?? COLUMNS,
    ...(opts.rowGroupRows ? { rowGroupRows: opts.rowGroupRows } : {}),
  });
  await pipeline(Readable.from(rows), writer, createWriteStream(file));
  return file;
}

describe('createParquetExportWriter', () => {
  it('round-trips awkward rows through its own reader, value for value, across row groups', async () => {
    const file = await writeParquet(AWKWARD_ROWS, { rowGroupRows: 3 });
    const got = await collect(readParquetRows(file));
    assert.deepEqual(
      got.map((r) => r.line),
      AWKWARD_ROWS.map((_r, i) => i + 1),
    );
    assert.deepEqual(
      got.map((r) => r.row),
      AWKWARD_ROWS.map(expectedRow),
    );
    // the all-null column stays a column of nulls, the empty string stays an empty string
    assert.ok(got.every((r) => r.row.nothing === null));
    assert.equal(got[3]?.row.title, '');
    assert.equal(got[4]?.row.title, null);
  });

  it('writes INT64, DOUBLE, BOOLEAN, UTC timestamps and UTF-8 text that DuckDB reads with the same values', async () => {
    const file = await writeParquet(AWKWARD_ROWS, { rowGroupRows: 4 });
    const con = await db();
    const schema = await query(
      con,
      `SELECT name, type, converted_type, repetition_type FROM parquet_schema(${lit(file)}) WHERE name <> 'schema'`,
    );
    const byName = new Map(schema.map((s) => [s.name, s]));
    assert.deepEqual(byName.get('qty'), { name: 'qty', type: 'INT64', converted_type: null, repetition_type: 'OPTIONAL' });
    assert.deepEqual(byName.get('created_at'), { name: 'created_at', type: 'INT64', converted_type: null, repetition_type: 'OPTIONAL' });
    assert.deepEqual(byName.get('price'), { name: 'price', type: 'DOUBLE', converted_type: null, repetition_type: 'OPTIONAL' });
    assert.deepEqual(byName.get('ok'), { name: 'ok', type: 'BOOLEAN', converted_type: null, repetition_type: 'OPTIONAL' });
    assert.deepEqual(byName.get('at'), { name: 'at', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' });
    assert.deepEqual(byName.get('title'), { name: 'title', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    assert.deepEqual(byName.get('meta'), { name: 'meta', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });

    const types = await query(con, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${lit(file)}))`);
    assert.deepEqual(Object.fromEntries(types.map((t) => [t.column_name, t.column_type])), {
      id: 'VARCHAR',
      created_at: 'BIGINT',
      updated_at: 'BIGINT',
      created_by: 'VARCHAR',
      title: 'VARCHAR',
      qty: 'BIGINT',
      price: 'DOUBLE',
      ok: 'BOOLEAN',
      at: 'TIMESTAMP WITH TIME ZONE',
      tags: 'VARCHAR',
      meta: 'VARCHAR',
      nothing: 'VARCHAR',
    });

    const rows = await query(
      con,
      `SELECT id, created_at, title, qty, price, ok, epoch_ms("at") AS at_ms, tags, meta, nothing FROM read_parquet(${lit(file)}) ORDER BY id`,
    );
    assert.deepEqual(
      rows,
      AWKWARD_ROWS.map((r) => ({
        id: r.id,
        created_at: BigInt(r.created_at as number),
        title: r.title,
        qty: r.qty === null ? null : BigInt(r.qty as number),
        price: r.price,
        ok: r.ok,
        at_ms: r.at === null ? null : BigInt(Date.parse(r.at as string)),
        tags: r.tags === null ? null : JSON.stringify(r.tags),
        meta: r.meta === null ? null : JSON.stringify(r.meta),
        nothing: null,
      })),
    );
    const groups = await query(
      con,
      `SELECT count(DISTINCT row_group_id) AS n, list(DISTINCT compression) AS codecs FROM parquet_metadata(${lit(file)})`,
    );
    assert.equal(groups[0]?.n, 2n);
    assert.deepEqual(groups[0]?.codecs, ['GZIP']);
  });

  it('streams: each full row group leaves as bytes before the input ends', async () => {
    const rows = Array.from({ length: 50 }, (_v, i) => ({ id: `r${i}`, qty: i }));
    const columns: ExportColumn[] = [
      { name: 'id', type: 'string' },
      { name: 'qty', type: 'integer' },
    ];
    const writer = createParquetExportWriter({ tableName: 't', fields: [], columns, rowGroupRows: 10 });
    const seenAt: number[] = [];
    let written = 0;
    const source = Readable.from(
      (function* () {
        for (const r of rows) {
          written++;
          yield r;
        }
      })(),
    );
    const chunks: Buffer[] = [];
    await pipeline(
      source,
      writer,
      new Writable({
        write(c: Buffer, _e, cb) {
          chunks.push(c);
          seenAt.push(written);
          cb();
        },
      }),
    );
    // the first bytes (magic + first row group) arrive long before the 50th row is read
    assert.ok((seenAt[0] ?? 99) <= 20, `first bytes after ${seenAt[0]} rows`);
    assert.ok(chunks.length >= 5, `${chunks.length} chunks`);
    const file = join(dir(), 'streamed.parquet');
    await pipeline(Readable.from(chunks), createWriteStream(file));
    const back = await collect(readParquetRows(file));
    assert.deepEqual(
      back.map((r) => r.row),
      rows,
    );
  });

  it('closes a row group early when its values grow large (long texts), and reads large groups in slices', async () => {
    const columns: ExportColumn[] = [
      { name: 'i', type: 'integer' },
      { name: 'text', type: 'string' },
    ];
    const rows = Array.from({ length: 20 }, (_v, i) => ({ i, text: String.fromCharCode(97 + i).repeat(1_000_000) }));
    const file = await writeParquet(rows, { columns });
    const groups = await query(
      await db(),
      `SELECT row_group_id, row_group_num_rows AS n FROM parquet_metadata(${lit(file)}) WHERE path_in_schema = 'i'`,
    );
    // Each row holds ~2 MB of text (UTF-16): the 16 MiB budget closes a group at its ninth row.
    assert.deepEqual(
      groups.map((g) => g.n),
      [9n, 9n, 2n],
    );
    const back = await collect(readParquetRows(file));
    assert.deepEqual(
      back.map((r) => [r.line, r.row.i, (r.row.text as string).length, (r.row.text as string)[0]]),
      rows.map((r, i) => [i + 1, i, 1_000_000, r.text[0]]),
    );

    const many = Array.from({ length: 250 }, (_v, i) => ({ i, text: `row ${i}` }));
    const sliced = await writeParquet(many, { columns, rowGroupRows: 100 });
    const got = await collect(readParquetRows(sliced, { sliceRows: 32 }));
    assert.deepEqual(
      got.map((r) => [r.line, r.row.i, r.row.text]),
      many.map((r, i) => [i + 1, r.i, r.text]),
    );
  });

  it('writes integers beyond 2^53 given as bigint or digit strings, and reads them back as bigint', async () => {
    const columns: ExportColumn[] = [{ name: 'big', type: 'integer' }];
    const file = await writeParquet([{ big: 2n ** 62n }, { big: '-9223372036854775808' }, { big: 5 }], { columns });
    const back = await collect(readParquetRows(file));
    assert.deepEqual(
      back.map((r) => r.row.big),
      [2n ** 62n, -(2n ** 63n), 5],
    );
  });

  it('refuses a value of the wrong type, naming the column', async () => {
    const columns: ExportColumn[] = [{ name: 'qty', type: 'integer' }];
    await assert.rejects(writeParquet([{ qty: 1.5 }], { columns }), (err: unknown) => {
      assert.ok(err instanceof InvalidFileError, String(err));
      assert.match(err.message, /Column "qty" must hold an integer, but a row holds 1\.5/);
      return true;
    });
    await assert.rejects(writeParquet([{ at: 'not a date' }], { columns: [{ name: 'at', type: 'date' }] }), /Column "at" must hold a date/);
  });

  it('writes a valid file with no rows', async () => {
    const file = await writeParquet([]);
    const bytes = await readFile(file);
    assert.equal(bytes.subarray(0, 4).toString(), 'PAR1');
    assert.deepEqual(await collect(readParquetRows(file)), []);
    const count = await query(await db(), `SELECT count(*) AS n FROM read_parquet(${lit(file)})`);
    assert.equal(count[0]?.n, 0n);
  });
});
