/**
 * A checked-in subset of apache/parquet-testing (test/fixtures/formats/parquet-testing, Apache
 * License 2.0) read by tableport's Parquet reader, against DuckDB's reading of the same files.
 * DuckDB's values are put in tableport's documented forms first: BINARY without a string annotation
 * as base64 text, nested values (lists, structs, maps as objects) as their JSON text, DECIMAL as a
 * number, timestamps as Dates, 64-bit integers as numbers when exact.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readParquetRows } from '../../../../src/formats/parquet/index.js';
import { collect } from './awkward-rows.js';
import { duckdb, lit } from './duckdb.js';

const DIR = fileURLToPath(new URL('../../../fixtures/formats/parquet-testing/', import.meta.url));
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.parquet'))
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
  if (type === 'BLOB') return Buffer.from(v as Uint8Array).toString('base64');
  if (type.startsWith('MAP(')) {
    const inner = /^MAP\((.+?), (.+)\)$/.exec(type);
    const out: Record<string, unknown> = {};
    for (const { key, value } of v as Array<{ key: unknown; value: unknown }>) out[String(key)] = plain(value, inner?.[2] ?? '');
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

async function duckRows(file: string): Promise<Record<string, unknown>[]> {
  const con = await db();
  const columns = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit(file)})`)).getRowObjectsJS() as unknown as Array<{
    column_name: string;
    column_type: string;
  }>;
  const types: DuckColumn[] = columns.map((c) => ({ name: c.column_name, type: c.column_type }));
  const rows = (await con.runAndReadAll(`SELECT * FROM read_parquet(${lit(file)})`)).getRowObjectsJS() as Record<string, unknown>[];
  return rows.map((r) => Object.fromEntries(types.map((t) => [t.name, cell(r[t.name], t.type)])));
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
});
