/**
 * The benchmark's rows, in two shapes. `wide`: N deterministic rows of 10 mixed fields, with the values that break naive
 * CSV and COPY code (commas, quotes, line breaks, tabs, backslashes, Unicode outside the BMP, NULL
 * next to the empty string), written as CSV and as JSON in the shape tableport exports. Files are
 * streamed to disk in batches: a million rows never sit in memory as one string. `narrow` (issue
 * 12): 9 short fields (a timestamp, a name and an email, two numbers, an integer, a boolean, a small
 * JSON array, a note with commas, quotes, line breaks and CJK), ~97 bytes of CSV a row, where the
 * per-row costs show that wide rows hide.
 */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FieldSchema } from '../../src/types/api.js';
import { Prng } from './prng.js';

export const FIELDS: FieldSchema[] = [
  { name: 'title', type: 'string' },
  { name: 'notes', type: 'string' },
  { name: 'city', type: 'string' },
  { name: 'quantity', type: 'integer' },
  { name: 'views', type: 'integer' },
  { name: 'price', type: 'number' },
  { name: 'score', type: 'number' },
  { name: 'active', type: 'boolean' },
  { name: 'due_at', type: 'date' },
  { name: 'tags', type: 'array' },
];

export const HEADER = ['id', 'created_at', 'updated_at', 'created_by', ...FIELDS.map((f) => f.name)];

export const SHAPES = ['wide', 'narrow'] as const;
export type Shape = (typeof SHAPES)[number];

/** The narrow shape: `price` is uniform in [0, 100000] as in the wide one, so HALF_WHERE serves both. */
export const NARROW_FIELDS: FieldSchema[] = [
  { name: 'seen_at', type: 'date' },
  { name: 'name', type: 'string' },
  { name: 'email', type: 'string' },
  { name: 'price', type: 'number' },
  { name: 'rate', type: 'number' },
  { name: 'qty', type: 'integer' },
  { name: 'ok', type: 'boolean' },
  { name: 'tags', type: 'array' },
  { name: 'note', type: 'string' },
];

export function fieldsOf(shape: Shape): FieldSchema[] {
  return shape === 'wide' ? FIELDS : NARROW_FIELDS;
}

function headerOf(shape: Shape): string[] {
  return ['id', 'created_at', 'updated_at', 'created_by', ...fieldsOf(shape).map((f) => f.name)];
}

const FIRST = ['Ann', 'Bo', 'Chen', 'Dé', 'Eve', 'Ōta', 'Li', 'Max', 'Noa', 'Zoë'];
const NOTES = ['ok', 'late, again', 'said "no"', '到着済み', 'two\nlines', '', 'x, "y", z', '请回电', 'fine'];

/** Narrow rows: ~97 bytes of CSV each. Same created_at spread as the wide rows (see windowFor). */
export function* generateNarrowRows(rows: number, seed: number): Generator<Cell[]> {
  const r = new Prng(seed);
  const idHead = T0.toString(16);
  for (let i = 0; i < rows; i++) {
    const createdAt = T0 + r.int(0, 3 * rows - 1);
    const first = r.pick(FIRST);
    const note = r.chance(0.1) ? null : r.pick(NOTES);
    const tags: Cell[] = [];
    for (let k = r.int(0, 2); k > 0; k--) tags.push(r.chance(0.5) ? r.int(0, 99) : r.pick(['a', 'b,c', 'é']));
    yield [
      idHead + r.int(0, 0xffffffff).toString(16).padStart(8, '0') + i.toString(16).padStart(8, '0'),
      createdAt,
      createdAt,
      '1',
      new Date((createdAt + r.int(0, 86_400)) * 1000).toISOString(),
      first,
      `${first.toLowerCase()}${r.int(0, 999)}@ex.io`,
      r.int(0, 10_000_000) / 100,
      r.int(0, 1000) / 1000,
      r.int(0, 9999),
      r.chance(0.5),
      tags,
      note,
    ];
  }
}

type Cell = string | number | boolean | null | Cell[];

/** created_at of row i lies in [T0, T0 + 3N): the window [T0 + N, T0 + 2N) holds about a third. */
const T0 = 1_700_000_000;

export function windowFor(rows: number): { start: number; end: number } {
  return { start: T0 + rows, end: T0 + 2 * rows };
}

/** A MinApp `where` that selects about half of the rows (price is uniform in [0, 100000]). */
export const HALF_WHERE = { price: { $lt: 50_000 } };

const ADJECTIVES = ['Quick', 'Lazy', 'Größte', 'naïve', 'Crème brûlée', 'Ünïcödé', '東京の', 'Сибирский', "O'Brien's", 'Déjà vu'];
const NOUNS = [
  'order',
  'invoice, paid',
  'shipment "express"',
  'ticket #42',
  'café',
  '注文',
  'rocket 🚀',
  'a\\b path',
  'tab\there',
  'semi;colon',
];
const SENTENCES = [
  'Deliver before noon, please.',
  'She said "hello", then left.',
  'Line with a backslash \\ and a tab\tinside.',
  '请在周五之前发货。',
  'Emoji: 🎉🙂👍🏽 and a family 👨‍👩‍👧.',
  'Comma, comma, comma',
  '"Quoted" at the start',
  'Ends with a quote"',
  'Ελληνικά και Русский текст',
  'Trailing spaces   ',
];
const CITIES = ['Zürich', 'São Paulo', '東京', 'Kraków', 'Reykjavík', 'München', 'القاهرة', 'Москва', 'Ōsaka', 'New York, NY', 'Paris'];
const TAGS = ['red', 'blue, green', 'say "hi"', 'ünï', '⭐', 'a\nb', 'x\\y'];

export type Row = [
  id: string,
  createdAt: number,
  updatedAt: number,
  createdBy: string,
  title: string,
  notes: string | null,
  city: string,
  quantity: number | null,
  views: number,
  price: number,
  score: number | null,
  active: boolean | null,
  dueAt: string,
  tags: Array<string | number | boolean>,
];

/** The rows, in file order (not created_at order: a file as a user would send it). */
export function* generateRows(rows: number, seed: number): Generator<Row> {
  const r = new Prng(seed);
  const idHead = T0.toString(16);
  for (let i = 0; i < rows; i++) {
    const createdAt = T0 + r.int(0, 3 * rows - 1);
    const noteCount = r.int(1, 3);
    let notes: string | null = r.pick(SENTENCES);
    for (let k = 1; k < noteCount; k++) notes += `\n${r.pick(SENTENCES)}`;
    const n = r.next();
    if (n < 0.05) notes = null;
    else if (n < 0.08) notes = '';
    const tags: Array<string | number | boolean> = [];
    for (let k = r.int(0, 4); k > 0; k--) {
      const t = r.next();
      tags.push(t < 0.6 ? r.pick(TAGS) : t < 0.9 ? r.int(-999, 999) : r.chance(0.5));
    }
    yield [
      idHead + r.int(0, 0xffffffff).toString(16).padStart(8, '0') + i.toString(16).padStart(8, '0'),
      createdAt,
      createdAt + r.int(0, 86_400),
      '1',
      `${r.pick(ADJECTIVES)} ${r.pick(NOUNS)}`,
      notes,
      r.pick(CITIES),
      r.chance(0.02) ? null : r.int(-1000, 100_000),
      r.int(0, 2 ** 40),
      r.int(0, 10_000_000) / 100,
      r.chance(0.02) ? null : Math.round((r.next() - 0.5) * 2e9) / 1e6,
      r.chance(0.02) ? null : r.chance(0.5),
      new Date((T0 + r.int(0, 5 * 365 * 86_400)) * 1000 + r.int(0, 999)).toISOString(),
      tags,
    ];
  }
}

/** RFC 4180: quote when needed; the empty string is quoted so that it differs from NULL (an empty cell). */
function csvCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s === '' || /[",\r\n]/.test(s)) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

function csvLine(row: readonly unknown[]): string {
  let line = csvCell(row[0] as Cell);
  for (let i = 1; i < row.length; i++) line += `,${csvCell(row[i] as Cell)}`;
  return `${line}\n`;
}

function jsonObject(row: readonly unknown[], header: readonly string[]): string {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) o[header[i] as string] = row[i];
  return JSON.stringify(o);
}

function rowsOf(shape: Shape, rows: number, seed: number): Generator<readonly unknown[]> {
  return shape === 'wide' ? generateRows(rows, seed) : generateNarrowRows(rows, seed);
}

const BATCH_ROWS = 2000;

function* csvChunks(rows: number, seed: number, shape: Shape): Generator<string> {
  yield `${headerOf(shape).join(',')}\n`;
  let chunk = '';
  let n = 0;
  for (const row of rowsOf(shape, rows, seed)) {
    chunk += csvLine(row);
    if (++n % BATCH_ROWS === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

function* jsonChunks(rows: number, seed: number, shape: Shape): Generator<string> {
  const header = headerOf(shape);
  let chunk = '[';
  let n = 0;
  for (const row of rowsOf(shape, rows, seed)) {
    chunk += (n === 0 ? '\n' : ',\n') + jsonObject(row, header);
    if (++n % BATCH_ROWS === 0) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}\n]\n`;
}

function* ndjsonChunks(rows: number, seed: number, shape: Shape): Generator<string> {
  const header = headerOf(shape);
  let chunk = '';
  let n = 0;
  for (const row of rowsOf(shape, rows, seed)) {
    chunk += `${jsonObject(row, header)}\n`;
    if (++n % BATCH_ROWS === 0) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

export interface GeneratedFile {
  path: string;
  bytes: number;
  seconds: number;
}

export async function writeDataset(
  path: string,
  format: 'csv' | 'json' | 'ndjson',
  rows: number,
  seed: number,
  shape: Shape = 'wide',
): Promise<GeneratedFile> {
  const t0 = performance.now();
  const chunks =
    format === 'csv' ? csvChunks(rows, seed, shape) : format === 'json' ? jsonChunks(rows, seed, shape) : ndjsonChunks(rows, seed, shape);
  await pipeline(Readable.from(chunks, { objectMode: false }), createWriteStream(path));
  return { path, bytes: (await stat(path)).size, seconds: (performance.now() - t0) / 1000 };
}
