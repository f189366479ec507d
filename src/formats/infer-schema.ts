/**
 * Schema inference for `POST /table/import/`: reads the first rows of a file (a bounded sample,
 * `INFER_SAMPLE_ROWS`, streamed and then abandoned) and gives each column the narrowest type all
 * its values fit: integer, number, boolean, ISO date, array, object, else string. A column whose
 * values disagree (other than integers with numbers) is a string; built-in columns stay built-in.
 *
 * The schema must take the rows it was inferred from, so the guess is checked by the import's own
 * row plan over the sample: a column the plan refuses a value of (`[1e400]` looks like an array but
 * no jsonb holds it) becomes a string, which takes any value a file holds (see `convertFileValue`).
 * A built-in column the plan refuses (ISO dates in `created_at`) is refused now, naming the line.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { InvalidFileError } from '../errors.js';
import { BUILTIN_FIELD_TYPES, BUILTIN_FIELDS, type FieldSchema, type FieldType } from '../types/api.js';
import { CsvTokenizer } from './csv-tokenizer.js';
import { gzipError } from './detect.js';
import { ERROR_REPORT_COLUMN } from './error-report.js';
import type { ImportFileOptions } from './format.js';
import { JsonArraySplitter } from './json-array-splitter.js';
import { foreignValue } from './object-import.encoder.js';
import { formatOf } from './registry.js';
import { RowPlan } from './row-plan.js';
import { parseDate } from './values.js';

export const INFER_SAMPLE_ROWS = 1000;

const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const BUILTINS = new Set<string>(BUILTIN_FIELDS);

interface Sample {
  /** Column names in file order. */
  columns: string[];
  rows: Array<Record<string, unknown>>;
  /** The file line each row starts on. */
  lines: number[];
  /** Values are CSV text rather than typed values. */
  fromText: boolean;
  /** Values are a Parquet or xlsx reader's native JS values (Date, bigint), brought to JSON shape on import. */
  foreign?: boolean;
}

/** The first `limit` rows of a file whose format is known. */
export async function sampleFile(
  path: string,
  fileType: string,
  gzip: boolean,
  opts: ImportFileOptions & { csvDelimiter: string },
  limit = INFER_SAMPLE_ROWS,
): Promise<Sample> {
  const shape = formatOf(fileType)?.import;
  if (shape?.kind === 'rows') {
    const rows: Array<Record<string, unknown>> = [];
    const lines: number[] = [];
    const columns = new Set<string>();
    for await (const { row, line } of shape.read(path)) {
      for (const k of Object.keys(row)) columns.add(k);
      rows.push(row);
      lines.push(line);
      if (rows.length >= limit) break;
    }
    return { columns: [...columns], rows, lines, fromText: false, foreign: true };
  }
  const sample: Sample = { columns: [], rows: [], lines: [], fromText: fileType === 'csv' };
  const seen = new Set<string>();
  const addObject = (obj: unknown, line: number) => {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return;
    for (const k of Object.keys(obj)) if (!seen.has(k)) seen.add(k) && sample.columns.push(k);
    sample.rows.push(obj as Record<string, unknown>);
    sample.lines.push(line);
  };
  let feed: (text: string) => void;
  if (fileType === 'csv') {
    let header: string[] | undefined = opts.csvHeader === false ? opts.columns : undefined;
    if (header) sample.columns = header;
    const tokenizer = new CsvTokenizer((cells, count, line) => {
      if (!header) {
        header = cells.slice(0, count).map((c) => c ?? '');
        sample.columns = header;
        return;
      }
      const row: Record<string, unknown> = {};
      for (let i = 0; i < count && i < header.length; i++) row[header[i] as string] = cells[i];
      sample.rows.push(row);
      sample.lines.push(line);
    }, opts.csvDelimiter);
    feed = (t) => tokenizer.write(t);
  } else if (fileType === 'json') {
    const splitter = new JsonArraySplitter((t, s, e, line) => addObject(JSON.parse(t.slice(s, e)), line));
    feed = (t) => splitter.write(t);
  } else {
    let carry = '';
    let lineNo = 0;
    feed = (t) => {
      const lines = (carry + t).split('\n');
      carry = lines.pop() ?? '';
      for (const l of lines) {
        lineNo++;
        if (l.trim()) addObject(JSON.parse(l), lineNo);
      }
    };
  }
  const file = createReadStream(path);
  const bytes: Readable = gzip ? file.pipe(createGunzip()) : file;
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of bytes) {
      feed(decoder.write(chunk as Buffer));
      if (sample.rows.length >= limit) break;
    }
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('Z_')) throw gzipError(err as Error);
    // A broken row past the sample is for the import to report with its line.
    if (sample.rows.length === 0) throw err;
  } finally {
    file.destroy();
    bytes.destroy();
  }
  sample.rows.length = Math.min(sample.rows.length, limit);
  sample.lines.length = sample.rows.length;
  return sample;
}

/** The schema the sample's columns fit. Refuses columns that cannot be field names. */
export function inferSchema(sample: Sample): FieldSchema[] {
  const columns = sample.columns.filter((c) => !BUILTINS.has(c) && c !== ERROR_REPORT_COLUMN);
  const bad = columns.filter((c) => !FIELD_RE.test(c));
  if (bad.length) {
    throw new InvalidFileError(
      `${bad.map((c) => JSON.stringify(c)).join(', ')} cannot be ${bad.length === 1 ? 'a field name' : 'field names'}: a field name is a letter or "_", then up to 62 letters, digits or "_".`,
      { columns: bad },
    );
  }
  if (columns.length === 0)
    throw new InvalidFileError('The file has no columns besides the built-in ones, so no schema can be inferred from it.');
  const guessed = columns.map((name) => {
    let type: FieldType | undefined;
    for (const row of sample.rows) {
      const t = sample.fromText ? textType(row[name]) : valueType(row[name], sample.foreign === true);
      if (t === undefined) continue;
      if (type === undefined || type === t) type = t;
      else if ((type === 'integer' && t === 'number') || (type === 'number' && t === 'integer')) type = 'number';
      else return { name, type: 'string' as const };
    }
    return { name, type: type ?? 'string' };
  });
  return checkedByImport(sample, guessed);
}

const SAMPLE_DEFAULTS = { createdAt: 0, createdBy: '', newId: () => 'x' };

/**
 * `fields` with every column whose sampled values the import's row plan refuses made a string
 * (repeated until the plan takes every row: each round makes at least one more column a string).
 * What a string column still refuses (U+0000, a cell over MAX_CELL_BYTES) no type could hold:
 * the import reports it with its line. A refused built-in column is refused now.
 */
function checkedByImport(sample: Sample, fields: FieldSchema[]): FieldSchema[] {
  let current = fields;
  for (;;) {
    const plan = new RowPlan(current, SAMPLE_DEFAULTS, { fileValues: true });
    const types = new Map<string, FieldType>([...Object.entries(BUILTIN_FIELD_TYPES), ...current.map((f) => [f.name, f.type] as const)]);
    const slots = new Array<unknown>(plan.names.length);
    const widen = new Set<string>();
    sample.rows.forEach((row, i) => {
      slots.fill(undefined);
      for (const key in row) {
        const at = plan.index.get(key);
        if (at !== undefined) slots[at] = sample.foreign ? foreignValue(row[key], types.get(key)) : row[key];
      }
      if (plan.encode(slots, sample.fromText, true) !== undefined) return;
      for (const p of plan.problems) {
        if (p.field !== undefined && BUILTINS.has(p.field)) {
          throw new InvalidFileError(
            `line ${sample.lines[i]}, ${p.field}: ${p.reason}. A column named ${p.field} is the built-in field of that name; rename the column to keep it as a field of its own.`,
            { line: sample.lines[i], columns: [p.field] },
          );
        }
        if (p.field !== undefined && types.get(p.field) !== 'string') widen.add(p.field);
      }
    });
    if (widen.size === 0) return current;
    current = current.map((f) => (widen.has(f.name) ? { name: f.name, type: 'string' as const } : f));
  }
}

const INTEGER = /^-?\d{1,16}$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE_START = /^\d{4}-\d{2}-\d{2}/;
const problem = { message: '' };

function isDate(s: string): boolean {
  return DATE_START.test(s) && parseDate(s, problem) !== undefined;
}

// Digits with a leading zero (zip codes, phone numbers, "007") mean text: as integers they would lose it.
const LEADING_ZERO = /^-?0\d/;

/** The type a CSV cell looks like; undefined for an empty cell (no evidence). */
function textType(v: unknown): FieldType | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const s = String(v);
  if (LEADING_ZERO.test(s)) return 'string';
  if (INTEGER.test(s) && Number.isSafeInteger(Number(s))) return 'integer';
  if (NUMBER.test(s) && Number.isFinite(Number(s))) return 'number';
  const lower = s.toLowerCase();
  if (lower === 'true' || lower === 'false') return 'boolean';
  if (isDate(s)) return 'date';
  return jsonTextType(s) ?? 'string';
}

/** `array` or `object` for text that is a JSON array or object (as CSV and xlsx cells hold them). */
function jsonTextType(s: string): FieldType | undefined {
  if (s.startsWith('[') || s.startsWith('{')) {
    try {
      const j = JSON.parse(s) as unknown;
      if (Array.isArray(j)) return 'array';
      if (typeof j === 'object' && j !== null) return 'object';
    } catch {
      // not JSON: text
    }
  }
  return undefined;
}

/**
 * The type of a typed value (JSON, Parquet, xlsx). `foreign`: a Parquet or xlsx reader's value,
 * whose text cells may hold JSON arrays and objects (our own xlsx and Parquet exports write them so).
 */
function valueType(v: unknown, foreign: boolean): FieldType | undefined {
  // An empty string is no value for any type but string (see convertFileValue): no evidence.
  if (v === null || v === undefined || v === '') return undefined;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? 'integer' : 'string';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'integer' : Number.isFinite(v) ? 'number' : 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (v instanceof Date) return 'date';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  const s = String(v);
  return isDate(s) ? 'date' : ((foreign ? jsonTextType(s) : undefined) ?? 'string');
}
