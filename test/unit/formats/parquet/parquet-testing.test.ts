/**
 * A checked-in subset of apache/parquet-testing (test/fixtures/formats/parquet-testing, Apache
 * License 2.0) read by tableport's Parquet reader, against DuckDB's reading of the same files.
 * DuckDB's values are put in tableport's documented forms first: BINARY without a string annotation
 * (and GEOMETRY's WKB) as base64 text, nested values (lists, structs, maps as objects) as their JSON
 * text, DECIMAL as a number, timestamps as Dates, 64-bit integers as numbers when exact. The files
 * DuckDB cannot read, or reads wrong, are checked against what stands for them (below).
 * bench/parquet-testing.ts runs the whole of parquet-testing's data/ through the import itself.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidFileError } from '../../../../src/errors.js';
import { sampleFile } from '../../../../src/formats/index.js';
import { parquetColumns, readParquetRows } from '../../../../src/formats/parquet/index.js';
import { UnstorableValue } from '../../../../src/formats/values.js';
import { collect } from './awkward-rows.js';
import { duckdb, lit, query } from './duckdb.js';

const DIR = fileURLToPath(new URL('../../../fixtures/formats/parquet-testing/', import.meta.url));
/** Checked by tests of their own: DuckDB cannot read them, reads them wrong, or the reader refuses them. */
const OWN_TESTS = new Set([
  'byte_stream_split_extended.gzip.parquet',
  'int96_from_spark.parquet',
  'large_string_map.brotli.parquet',
  'map_no_value.parquet',
]);
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.parquet') && !OWN_TESTS.has(f))
  .sort();
const db = duckdb();

interface DuckColumn {
  name: string;
  type: string;
}

/** DuckDB's value of a column of `type` in tableport's form (nested values still as JS values). */
function plain(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  if (type.endsWith('[]')) return (v as unknown[]).map((x) => plain(x, type.slice(0, -2)));
  if (type === 'BLOB' || type.startsWith('GEOMETRY')) return Buffer.from(v as Uint8Array).toString('base64');
  if (type.startsWith('MAP(')) {
    const inner = /^MAP\((.+?), (.+)\)$/.exec(type);
    const out: Record<string, unknown> = {};
    for (const { key, value } of v as Array<{ key: unknown; value: unknown }>) {
      const k = plain(key, inner?.[1] ?? '');
      out[k instanceof Date ? k.toISOString() : String(k)] = plain(value, inner?.[2] ?? '');
    }
    return out;
  }
  if (type.startsWith('STRUCT(')) {
    const out: Record<string, unknown> = {};
    const fields = structFields(type);
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = plain(x, fields.get(k) ?? '');
    return out;
  }
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (type.startsWith('DECIMAL')) return Number(v);
  if (v instanceof Date) return v;
  return v;
}

/** The fields of a DuckDB STRUCT type, by name. */
function structFields(type: string): Map<string, string> {
  const body = type.slice('STRUCT('.length, -1);
  const fields = new Map<string, string>();
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    const c = body[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if ((c === ',' && depth === 0) || i === body.length) {
      const part = body.slice(start, i).trim();
      const m = /^("(?:[^"]|"")+"|\S+) (.+)$/.exec(part);
      if (m) fields.set((m[1] as string).replace(/^"|"$/g, '').replaceAll('""', '"'), m[2] as string);
      start = i + 1;
    }
  }
  return fields;
}

/** A top-level cell as tableport's reader gives it: nested values as JSON text. */
function cell(v: unknown, type: string): unknown {
  const p = plain(v, type);
  if (p !== null && typeof p === 'object' && !(p instanceof Date)) return JSON.stringify(p);
  return p;
}

async function duckRows(file: string, select = '*'): Promise<Record<string, unknown>[]> {
  const con = await db();
  const from = `SELECT ${select} FROM read_parquet(${lit(file)})`;
  const columns = (await con.runAndReadAll(`DESCRIBE ${from}`)).getRowObjectsJS() as unknown as Array<{
    column_name: string;
    column_type: string;
  }>;
  const types: DuckColumn[] = columns.map((c) => ({ name: c.column_name, type: c.column_type }));
  const rows = (await con.runAndReadAll(from)).getRowObjectsJS() as Record<string, unknown>[];
  return rows.map((r) => Object.fromEntries(types.map((t) => [t.name, cell(r[t.name], t.type)])));
}

async function readRows(name: string): Promise<Record<string, unknown>[]> {
  return (await collect(readParquetRows(join(DIR, name)))).map((r) => r.row);
}

async function refused(name: string, pattern: RegExp): Promise<void> {
  await assert.rejects(readRows(name), (err: unknown) => {
    assert.ok(err instanceof InvalidFileError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

describe('apache/parquet-testing files read as DuckDB reads them', () => {
  for (const name of FILES) {
    it(name, async () => {
      const file = join(DIR, name);
      const expected = await duckRows(file);
      const rows = (await collect(readParquetRows(file))).map((r) => r.row);
      assert.equal(rows.length, expected.length);
      rows.forEach((row, i) => {
        assert.deepEqual(row, expected[i], `row ${i + 1}`);
      });
    });
  }

  it('keeps unannotated BINARY as base64 at the top level, bytes FF FF 01 02 included, never as lossy UTF-8', async () => {
    const rows = (await collect(readParquetRows(join(DIR, 'binary_truncated_min_max.parquet')))).map((r) => r.row);
    const bytes = rows.map((r) => Buffer.from(r.binary_partial_truncation as string, 'base64'));
    assert.ok(bytes.some((b) => b.equals(Buffer.from([0xff, 0xff, 0x01, 0x02]))));
    // Annotated strings stay text.
    assert.equal(rows[0]?.utf8_full_truncation, 'Blart Versenwald III');
  });

  it('keeps an empty REPEATED field (no LIST annotation) as an empty list, at the top level and in a struct', async () => {
    const rows = (await collect(readParquetRows(join(DIR, 'repeated_primitive_no_list.parquet')))).map((r) => r.row);
    assert.equal(rows[1]?.Int32_list, '[]');
    assert.deepEqual(JSON.parse(rows[1]?.group_of_lists as string).Int32_list_in_group, []);
  });

  it('reads a DataPage V2 file whose page holds no bytes (all nulls) instead of refusing it as damaged', async () => {
    const rows = (await collect(readParquetRows(join(DIR, 'datapage_v2_empty_datapage.snappy.parquet')))).map((r) => r.row);
    assert.ok(rows.length > 0);
    assert.ok(rows.every((r) => r.value === null));
  });

  it('reads DECIMALs exactly (1003.858, not 1003.8580000000001) and BYTE_STREAM_SPLIT of every type as its PLAIN twin', async () => {
    const rows = await readRows('byte_stream_split_extended.gzip.parquet');
    const plain = ['float16', 'float', 'double', 'int32', 'int64', 'flba5', 'decimal'];
    // DuckDB reads BYTE_STREAM_SPLIT of floats only: the PLAIN columns stand for the others (data/README.md).
    const expected = await duckRows(join(DIR, 'byte_stream_split_extended.gzip.parquet'), plain.map((p) => `${p}_plain`).join(', '));
    assert.equal(rows.length, 200);
    rows.forEach((row, i) => {
      for (const p of plain) {
        assert.deepEqual(row[`${p}_plain`], expected[i]?.[`${p}_plain`], `row ${i + 1} ${p}_plain`);
        assert.deepEqual(row[`${p}_byte_stream_split`], row[`${p}_plain`], `row ${i + 1} ${p}_byte_stream_split`);
      }
    });
    // DuckDB's exact decimal text, as the number it is.
    const texts = await query(
      await db(),
      `SELECT decimal_plain::VARCHAR AS d FROM read_parquet(${lit(join(DIR, 'byte_stream_split_extended.gzip.parquet'))})`,
    );
    assert.equal(rows[0]?.decimal_plain, 1003.858);
    rows.forEach((row, i) => {
      assert.equal(String(row.decimal_plain), String(Number(texts[i]?.d)), `row ${i + 1}`);
    });
  });

  it('reads a MAP without values as the list of its keys, as data/map_no_value.md gives it (DuckDB refuses the file)', async () => {
    const rows = await readRows('map_no_value.parquet');
    assert.deepEqual(
      rows.map((r) => [JSON.parse(r.my_map as string), JSON.parse(r.my_map_no_v as string), JSON.parse(r.my_list as string)]),
      [1, 4, 7].map((k) => [{ [k]: null, [k + 1]: null, [k + 2]: null }, [k, k + 1, k + 2], [k, k + 1, k + 2]]),
    );
  });

  it('reads INT96 timestamps from their bytes, and refuses the row of one whose time of day is outside a day', async () => {
    const rows = await readRows('int96_from_spark.parquet');
    const expected = await duckRows(join(DIR, 'int96_from_spark.parquet'));
    assert.deepEqual(rows.slice(0, 5), expected.slice(0, 5));
    // Spark wrote 290000-12-31 with its 64-bit microseconds overflowing (data/int96_from_spark.md):
    // Julian day -105862232 and -32509551616000 ns. DuckDB reads it as year -226413; no reading is right.
    const last = rows[5]?.a;
    assert.ok(last instanceof UnstorableValue, String(last));
    assert.match(last.reason, /INT96 timestamp whose time of day \(-32509551616000 ns\) is outside a day/);
  });

  it('refuses encrypted files saying so, naming the column when the footer is plain', async () => {
    await refused('uniform_encryption.parquet.encrypted', /The Parquet file is encrypted, footer and columns .*not supported/);
    await refused(
      'encrypt_columns_plaintext_footer.parquet.encrypted',
      /Column "float_field" of the Parquet file is encrypted \(Parquet modular encryption\), which is not supported/,
    );
  });

  it('refuses a 4 KB file of a 1 GiB string naming the column and the page limit, before inflating it', async () => {
    await refused(
      'large_string_map.brotli.parquet',
      /A BROTLI page of column "arr.key_value.key" in row group 1 of the Parquet file inflates to 1073741828 bytes, more than the limit/,
    );
  });

  it('gives the columns of a file of no rows, so that a table made from it has them', async () => {
    const file = join(DIR, 'column_chunk_key_value_metadata.parquet');
    assert.deepEqual(await parquetColumns(file), ['column1', 'column2']);
    const sample = await sampleFile(file, 'parquet', false, { csvDelimiter: ',' });
    assert.deepEqual(sample.columns, ['column1', 'column2']);
    assert.equal(sample.rows.length, 0);
  });

  it('reads a chunk one dictionary header longer than its metadata says (PARQUET-816) instead of refusing it', async () => {
    const rows = await readRows('nation.dict-malformed.parquet');
    assert.equal(rows.length, 25);
    assert.equal(rows[0]?.name, Buffer.from('ALGERIA').toString('base64'));
  });
});
