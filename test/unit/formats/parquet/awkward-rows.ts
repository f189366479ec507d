/**
 * Rows that break naive writers, shaped as tableport's JSON export writes them, shared by the
 * Parquet and xlsx tests; and what each should read back as.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { ExportColumn } from '../../../../src/formats/columnar-types.js';
import { exportColumns } from '../../../../src/formats/export-plan.js';
import type { FieldSchema } from '../../../../src/types/api.js';
import { FIELDS as IMPORT_FIELDS } from '../helpers.js';

/** The import tests' fields, and one that is null in every row. */
export const FIELDS: FieldSchema[] = [...IMPORT_FIELDS, { name: 'nothing', type: 'string' }];

/** The built-ins with their natural types, then the fields: the columns an export writes. */
export const COLUMNS: ExportColumn[] = exportColumns(FIELDS);

const base = { created_at: 1700000000, updated_at: 1700000123, created_by: 'user-1', nothing: null };

export const AWKWARD_ROWS: Record<string, unknown>[] = [
  {
    ...base,
    id: 'r1',
    title: 'comma, "quote" and \'single\'',
    qty: 9007199254740991,
    price: 1.5,
    ok: true,
    at: '2024-05-01T12:00:00.123Z',
    tags: ['a', 'b,c'],
    meta: { k: 'v', n: [1, { deep: true }] },
  },
  {
    ...base,
    id: 'r2',
    title: 'line\nbreak and\r\nCRLF and\ttab',
    qty: -9007199254740991,
    price: -0.000123,
    ok: false,
    at: '1969-12-31T23:59:59.999Z',
    tags: [],
    meta: {},
  },
  { ...base, id: 'r3', title: '中文 한국어 日本語 🚀👩‍👩‍👧 emoji', qty: 0, price: 0, ok: null, at: null, tags: null, meta: null },
  {
    ...base,
    id: 'r4',
    title: '',
    qty: null,
    price: null,
    ok: true,
    at: '2038-01-19T03:14:08.001Z',
    tags: ['', null, 1.25],
    meta: { 'key with space': '', quote: '"' },
  },
  {
    ...base,
    id: 'r5',
    title: null,
    qty: -1,
    price: 1e300,
    ok: false,
    at: '2000-02-29T00:00:00.000Z',
    tags: [[1, 2], { a: 1 }],
    meta: { html: '<b>&amp;</b>' },
  },
  {
    ...base,
    id: 'r6',
    title: '  leading and trailing spaces  ',
    qty: 42,
    price: Math.PI,
    ok: true,
    at: '2024-01-01T00:00:00.000Z',
    tags: ['x'],
    meta: { n: -0.5 },
  },
  {
    ...base,
    id: 'r7',
    title: '<xml> & entities &amp; _x0041_ \u0001 control',
    qty: 1234567890123,
    price: -1e-300,
    ok: false,
    at: '2024-12-31T23:59:59.999Z',
    tags: ['🚀'],
    meta: { u: '\u00e9' },
  },
];

/** What a reader gives back for a row: integers as numbers, dates as Dates, arrays and objects as JSON text. */
export function expectedRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of COLUMNS) {
    const v = row[c.name] ?? null;
    if (v === null) out[c.name] = null;
    else if (c.type === 'date') out[c.name] = new Date(v as string);
    else if (c.type === 'array' || c.type === 'object') out[c.name] = JSON.stringify(v);
    else out[c.name] = v;
  }
  return out;
}

/** A temp dir for the file's tests, removed after them. */
export function tempDir(prefix: string): () => string {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
