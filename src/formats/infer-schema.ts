/**
 * Schema inference for `POST /table/import/`: reads the first rows of a file (a bounded sample,
 * `INFER_SAMPLE_ROWS`, streamed and then abandoned) and gives each column the narrowest type all
 * its values fit: integer, number, boolean, ISO date, array, object, else string. A column whose
 * values disagree (other than integers with numbers) is a string; built-in columns stay built-in.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { InvalidFileError } from '../errors.js';
import { BUILTIN_FIELDS, type FieldSchema, type FieldType } from '../types/api.js';
import { CsvTokenizer } from './csv-tokenizer.js';
import { gzipError } from './detect.js';
import { ERROR_REPORT_COLUMN } from './error-report.js';
import type { ImportFileOptions } from './format.js';
import { JsonArraySplitter } from './json-array-splitter.js';
import { formatOf } from './registry.js';
import { parseDate } from './values.js';

export const INFER_SAMPLE_ROWS = 1000;

const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const BUILTINS = new Set<string>(BUILTIN_FIELDS);

interface Sample {
  /** Column names in file order. */
  columns: string[];
  rows: Array<Record<string, unknown>>;
  /** Values are CSV text rather than typed values. */
  fromText: boolean;
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
    const columns = new Set<string>();
    for await (const { row } of shape.read(path)) {
      for (const k of Object.keys(row)) columns.add(k);
      rows.push(row);
      if (rows.length >= limit) break;
    }
    return { columns: [...columns], rows, fromText: false };
  }
  const sample: Sample = { columns: [], rows: [], fromText: fileType === 'csv' };
  const seen = new Set<string>();
  const addObject = (obj: unknown) => {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return;
    for (const k of Object.keys(obj)) if (!seen.has(k)) seen.add(k) && sample.columns.push(k);
    sample.rows.push(obj as Record<string, unknown>);
  };
  let feed: (text: string) => void;
  if (fileType === 'csv') {
    let header: string[] | undefined = opts.csvHeader === false ? opts.columns : undefined;
    if (header) sample.columns = header;
    const tokenizer = new CsvTokenizer((cells, count) => {
      if (!header) {
        header = cells.slice(0, count).map((c) => c ?? '');
        sample.columns = header;
        return;
      }
      const row: Record<string, unknown> = {};
      for (let i = 0; i < count && i < header.length; i++) row[header[i] as string] = cells[i];
      sample.rows.push(row);
    }, opts.csvDelimiter);
    feed = (t) => tokenizer.write(t);
  } else if (fileType === 'json') {
    const splitter = new JsonArraySplitter((t, s, e) => addObject(JSON.parse(t.slice(s, e))));
    feed = (t) => splitter.write(t);
  } else {
    let carry = '';
    feed = (t) => {
      const lines = (carry + t).split('\n');
      carry = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) addObject(JSON.parse(l));
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
  return columns.map((name) => {
    let type: FieldType | undefined;
    for (const row of sample.rows) {
      const t = sample.fromText ? textType(row[name]) : valueType(row[name]);
      if (t === undefined) continue;
      if (type === undefined || type === t) type = t;
      else if ((type === 'integer' && t === 'number') || (type === 'number' && t === 'integer')) type = 'number';
      else return { name, type: 'string' as const };
    }
    return { name, type: type ?? 'string' };
  });
}

const INTEGER = /^-?\d{1,16}$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE_START = /^\d{4}-\d{2}-\d{2}/;
const problem = { message: '' };

function isDate(s: string): boolean {
  return DATE_START.test(s) && parseDate(s, problem) !== undefined;
}

/** The type a CSV cell looks like; undefined for an empty cell (no evidence). */
function textType(v: unknown): FieldType | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const s = String(v);
  if (INTEGER.test(s) && Number.isSafeInteger(Number(s))) return 'integer';
  if (NUMBER.test(s) && Number.isFinite(Number(s))) return 'number';
  const lower = s.toLowerCase();
  if (lower === 'true' || lower === 'false') return 'boolean';
  if (isDate(s)) return 'date';
  if (s.startsWith('[') || s.startsWith('{')) {
    try {
      const j = JSON.parse(s) as unknown;
      if (Array.isArray(j)) return 'array';
      if (typeof j === 'object' && j !== null) return 'object';
    } catch {
      // not JSON: text
    }
  }
  return 'string';
}

/** The type of a typed value (JSON, Parquet, xlsx). */
function valueType(v: unknown): FieldType | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? 'integer' : 'string';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'integer' : Number.isFinite(v) ? 'number' : 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (v instanceof Date) return 'date';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return isDate(String(v)) ? 'date' : 'string';
}
