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
 * When a row past the sample does not fit, the import reads the whole file the same way
 * (`inferWholeFile`, memory for one type per column) and widens its new table (imports.service.ts).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { reservedFieldName } from '../contracts/tables.js';
import { InvalidFileError } from '../errors.js';
import { BUILTIN_FIELD_TYPES, BUILTIN_FIELDS, type FieldSchema, type FieldType } from '../types/api.js';
import { CsvTokenizer } from './csv-tokenizer.js';
import { gzipError } from './detect.js';
import { ERROR_REPORT_COLUMN } from './error-report.js';
import type { ImportFileOptions } from './format.js';
import { JsonArraySplitter, jsonArrayLimits } from './json/json-array-splitter.js';
import { foreignValue } from './object-import.encoder.js';
import { formatOf } from './registry.js';
import { type DecimalSeparator, normalizeNumberText } from './number-format.js';
import { RowPlan } from './row-plan.js';
import { StrictTextDecoder, UTF8 } from './text-encoding.js';
import { parseDate, problemUnder, UnstorableValue, type ValueLimits } from './values.js';

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
  /** CSV: the decimal separator its number cells are written with. */
  decimalSeparator?: DecimalSeparator;
}

/** Reads a file's rows in order; `onRow` returns false to stop. Columns are announced before the rows that have them. */
interface RowVisitor {
  onColumns(names: string[]): void;
  onRow(row: Record<string, unknown>, line: number): boolean;
}

/** A local file, or a way to open one's bytes (a stored upload). */
type RowSource = string | (() => Promise<Readable>);

/**
 * Visits the rows of a file whose format is known. Text formats are parsed here as inference
 * needs them (a row that does not parse past the first ends the visit: the import reports it with
 * its line); Parquet and xlsx through their readers, which need a local file: bytes that are not
 * one are first copied to a temp file (decompressed), as the import does.
 */
async function visitRows(
  source: RowSource,
  fileType: string,
  gzip: boolean,
  opts: ImportFileOptions & { csvDelimiter: string },
  visitor: RowVisitor,
  signal?: AbortSignal,
): Promise<{ fromText: boolean; foreign: boolean; complete: boolean }> {
  const shape = formatOf(fileType)?.import;
  if (shape?.kind === 'rows' && typeof source !== 'string') {
    const dir = await mkdtemp(join(tmpdir(), 'tableport-infer-'));
    try {
      const path = join(dir, `file.${fileType}`);
      const bytes = await source();
      await pipeline([bytes, ...(gzip ? [createGunzip()] : []), createWriteStream(path)] as unknown as [Readable, Writable], {
        ...(signal ? { signal } : {}),
      });
      return await visitRows(path, fileType, false, opts, visitor, signal);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (shape?.kind === 'rows') {
    const path = source as string;
    const seen = new Set<string>();
    // A file that names its columns apart from its rows (a Parquet schema) gives them all, rows or none.
    if (shape.columns) {
      const names = await shape.columns(path);
      for (const n of names) seen.add(n);
      visitor.onColumns(names);
    }
    const read = { ...(signal ? { signal } : {}), ...(opts.sheet !== undefined ? { sheet: opts.sheet } : {}) };
    for await (const { row, line } of shape.read(path, read)) {
      const fresh = Object.keys(row).filter((k) => !seen.has(k));
      if (fresh.length) {
        for (const k of fresh) seen.add(k);
        visitor.onColumns(fresh);
      }
      if (!visitor.onRow(row, line)) return { fromText: false, foreign: true, complete: false };
    }
    return { fromText: false, foreign: true, complete: true };
  }
  const fromText = fileType === 'csv';
  let stop = false;
  let rows = 0;
  const visit = (row: Record<string, unknown>, line: number) => {
    rows++;
    if (!visitor.onRow(row, line)) stop = true;
  };
  const seen = new Set<string>();
  const addObject = (obj: unknown, line: number) => {
    if (stop || typeof obj !== 'object' || obj === null || Array.isArray(obj)) return;
    const fresh = Object.keys(obj).filter((k) => !seen.has(k));
    if (fresh.length) {
      for (const k of fresh) seen.add(k);
      visitor.onColumns(fresh);
    }
    visit(obj as Record<string, unknown>, line);
  };
  let feed: (text: string) => void;
  let end: () => void = () => undefined;
  if (fromText) {
    let header: string[] | undefined = opts.csvHeader === false ? opts.columns : undefined;
    if (header) visitor.onColumns(header);
    const maxCell = opts.limits?.maxCellBytes;
    const tokenizer = new CsvTokenizer(
      (cells, count, line) => {
        if (stop) return;
        if (!header) {
          header = cells.slice(0, count).map((c) => c ?? '');
          visitor.onColumns(header);
          return;
        }
        const row: Record<string, unknown> = {};
        for (let i = 0; i < count && i < header.length; i++) row[header[i] as string] = cells[i];
        visit(row, line);
      },
      opts.csvDelimiter,
      maxCell,
    );
    feed = (t) => tokenizer.write(t);
    end = () => tokenizer.end();
  } else if (fileType === 'json') {
    const splitter = new JsonArraySplitter((t, s, e, line) => addObject(JSON.parse(t.slice(s, e)), line), jsonArrayLimits(opts.limits));
    feed = (t) => splitter.write(t);
  } else {
    let carry = '';
    let lineNo = 0;
    const lines = (text: string) => {
      for (const l of text.split('\n')) {
        lineNo++;
        if (l.trim()) addObject(JSON.parse(l), lineNo);
      }
    };
    feed = (t) => {
      const all = carry + t;
      const cut = all.lastIndexOf('\n');
      carry = all.slice(cut + 1);
      if (cut >= 0) lines(all.slice(0, cut));
    };
    end = () => {
      if (carry.trim()) lines(carry);
    };
  }
  const file = typeof source === 'string' ? createReadStream(source) : await source();
  const bytes: Readable = gzip ? file.pipe(createGunzip()) : file;
  const decoder = new StrictTextDecoder(opts.encoding ?? UTF8, 'save it as UTF-8.', { keepBOM: fileType === 'json' });
  try {
    for await (const chunk of bytes) {
      signal?.throwIfAborted();
      feed(decoder.decode(chunk as Buffer));
      if (stop) return { fromText, foreign: false, complete: false };
    }
    feed(decoder.decode());
    end();
  } catch (err) {
    if (signal?.aborted) throw err;
    if ((err as { code?: string }).code?.startsWith('Z_')) throw gzipError(err as Error);
    // A broken row is for the import to report with its line; only a file with no row is refused here.
    if (rows === 0) throw err;
    return { fromText, foreign: false, complete: false };
  } finally {
    file.destroy();
    bytes.destroy();
  }
  return { fromText, foreign: false, complete: true };
}

/** The first `limit` rows of a file whose format is known. */
export async function sampleFile(
  path: string,
  fileType: string,
  gzip: boolean,
  opts: ImportFileOptions & { csvDelimiter: string },
  limit = INFER_SAMPLE_ROWS,
): Promise<Sample> {
  const columns: string[] = [];
  const rows: Array<Record<string, unknown>> = [];
  const lines: number[] = [];
  const { fromText, foreign } = await visitRows(path, fileType, gzip, opts, {
    onColumns: (names) => void columns.push(...names),
    onRow: (row, line) => {
      rows.push(row);
      lines.push(line);
      return rows.length < limit;
    },
  });
  return { columns, rows, lines, fromText, foreign, ...(opts.decimalSeparator ? { decimalSeparator: opts.decimalSeparator } : {}) };
}

/** The schema the sample's columns fit. Refuses columns that cannot be field names. */
export function inferSchema(sample: Sample, limits?: ValueLimits): FieldSchema[] {
  const columns = sample.columns.filter((c) => !BUILTINS.has(c) && c !== ERROR_REPORT_COLUMN);
  const bad = columns.filter((c) => !FIELD_RE.test(c));
  if (bad.length) {
    throw new InvalidFileError(
      `${bad.map((c) => JSON.stringify(c)).join(', ')} cannot be ${bad.length === 1 ? 'a field name' : 'field names'}: a field name is a letter or "_", then up to 62 letters, digits or "_".`,
      { columns: bad },
    );
  }
  for (const c of columns) {
    const reserved = reservedFieldName(c);
    if (!reserved) continue;
    const why =
      'builtin' in reserved
        ? `differs from the built-in field "${reserved.builtin}" only in case, and field names are compared without case; name the column "${reserved.builtin}" for the built-in field, or rename it to keep it as a field of its own`
        : `is the name of a PostgreSQL system column ("${reserved.system}"), which no field can have; rename the column`;
    throw new InvalidFileError(`The file's column ${JSON.stringify(c)} ${why}.`, { columns: [c] });
  }
  if (columns.length === 0)
    throw new InvalidFileError('The file has no columns besides the built-in ones, so no schema can be inferred from it.');
  const inferrer = new SchemaInferrer(sample.fromText, sample.foreign === true, [], limits, sample.decimalSeparator);
  inferrer.addColumns(sample.columns);
  sample.rows.forEach((row, i) => {
    inferrer.addRow(row, sample.lines[i] ?? 0);
  });
  const refused = inferrer.builtinProblem;
  if (refused) {
    throw new InvalidFileError(
      `line ${refused.line}, ${refused.field}: ${refused.reason}. A column named ${refused.field} is the built-in field of that name; rename the column to keep it as a field of its own.`,
      { line: refused.line, columns: [refused.field] },
    );
  }
  return inferrer.fields();
}

/**
 * The schema a whole file needs, starting from `start` (the table's inferred schema), whose types
 * it only widens (integer to number, any to string) and whose columns it only adds to. Reads every
 * row with memory for one type per column. `undefined` when no schema can take the file: a row
 * does not parse, a built-in column's value is refused, a new column cannot be a field name.
 */
export async function inferWholeFile(
  source: RowSource,
  fileType: string,
  gzip: boolean,
  opts: ImportFileOptions & { csvDelimiter: string },
  start: readonly FieldSchema[],
  signal?: AbortSignal,
): Promise<FieldSchema[] | undefined> {
  const inferrer = new SchemaInferrer(
    fileType === 'csv',
    formatOf(fileType)?.import?.kind === 'rows',
    start,
    opts.limits,
    opts.decimalSeparator,
  );
  const { complete } = await visitRows(
    source,
    fileType,
    gzip,
    opts,
    {
      onColumns: (names) => inferrer.addColumns(names),
      onRow: (row, line) => {
        inferrer.addRow(row, line);
        return inferrer.builtinProblem === undefined;
      },
    },
    signal,
  );
  if (!complete || inferrer.builtinProblem) return undefined;
  const fields = inferrer.fields();
  return fields.every((f) => FIELD_RE.test(f.name) && !reservedFieldName(f.name)) ? fields : undefined;
}

const SAMPLE_DEFAULTS = { createdAt: 0, createdBy: '', newId: () => 'x' };

/**
 * Infers a schema row by row, with one type per column: each value's look (`textType`,
 * `valueType`) widens its column's type, then the import's own row plan checks the row against the
 * types so far, and a column whose value it refuses becomes a string. Types only widen (integer to
 * number, anything to string), and a value a type takes the wider one takes too, so every row seen
 * fits the final schema. What a string column still refuses (U+0000, a cell over MAX_CELL_BYTES)
 * no type holds: the import reports it with its line.
 */
class SchemaInferrer {
  private readonly order: string[] = [];
  /** The type each column's values so far look like; undefined: no value yet. */
  private readonly types = new Map<string, FieldType | undefined>();
  private plan: RowPlan | undefined;
  private slots: unknown[] = [];
  /** The first built-in column value the plan refused: no schema changes that. */
  builtinProblem: { line: number; field: string; reason: string } | undefined;

  constructor(
    private readonly fromText: boolean,
    private readonly foreign: boolean,
    start: readonly FieldSchema[] = [],
    private readonly limits?: ValueLimits,
    private readonly decimal?: DecimalSeparator,
  ) {
    for (const f of start) {
      this.order.push(f.name);
      this.types.set(f.name, f.type);
    }
  }

  addColumns(names: readonly string[]): void {
    for (const name of names) {
      if (BUILTINS.has(name) || name === ERROR_REPORT_COLUMN || this.types.has(name)) continue;
      this.order.push(name);
      this.types.set(name, undefined);
      this.plan = undefined;
    }
  }

  addRow(row: Record<string, unknown>, line: number): void {
    for (const key in row) {
      const current = this.types.get(key);
      if (current === 'string' || !this.types.has(key)) continue;
      const t = this.fromText ? textType(row[key], this.decimal) : valueType(row[key], this.foreign);
      if (t === undefined || t === current) continue;
      this.types.set(key, current === undefined ? t : widest(current, t));
      this.plan = undefined;
    }
    const plan = this.currentPlan();
    const slots = this.slots;
    slots.fill(undefined);
    for (const key in row) {
      const at = plan.index.get(key);
      if (at === undefined) continue;
      const type = this.types.get(key) ?? BUILTIN_FIELD_TYPES[key as keyof typeof BUILTIN_FIELD_TYPES] ?? 'string';
      // A value no field stores fails its row in the import whatever the type: it must not widen one.
      slots[at] = unstorable(row[key]) ? null : this.foreign ? foreignValue(row[key], type) : row[key];
    }
    if (plan.encode(slots, this.fromText, true) !== undefined) return;
    for (const p of plan.problems) {
      if (p.field === undefined) continue;
      if (BUILTINS.has(p.field)) this.builtinProblem ??= { line, field: p.field, reason: p.reason };
      else if (this.types.get(p.field) !== 'string') {
        this.types.set(p.field, 'string');
        this.plan = undefined;
      }
    }
  }

  fields(): FieldSchema[] {
    return this.order.map((name) => ({ name, type: this.types.get(name) ?? 'string' }));
  }

  private currentPlan(): RowPlan {
    if (!this.plan) {
      this.plan = new RowPlan(this.fields(), SAMPLE_DEFAULTS, {
        fileValues: true,
        limits: this.limits,
        ...(this.decimal ? { decimalSeparator: this.decimal } : {}),
      });
      this.slots = new Array<unknown>(this.plan.names.length);
    }
    return this.plan;
  }
}

/** The narrowest type two looks share: integers with numbers are numbers, any other mix is text. */
function widest(a: FieldType, b: FieldType): FieldType {
  if (a === b) return a;
  if ((a === 'integer' && b === 'number') || (a === 'number' && b === 'integer')) return 'number';
  return 'string';
}

const INTEGER = /^-?\d{1,16}$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE_START = /^\d{4}-\d{2}-\d{2}/;
const problem = problemUnder();

function isDate(s: string): boolean {
  return DATE_START.test(s) && parseDate(s, problem) !== undefined;
}

// Digits with a leading zero (zip codes, phone numbers, "007") mean text: as integers they would lose it.
const LEADING_ZERO = /^-?0\d/;

/** The type a CSV cell looks like; undefined for an empty cell (no evidence). */
function textType(v: unknown, decimal?: DecimalSeparator): FieldType | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const cell = String(v);
  if (LEADING_ZERO.test(cell)) return 'string';
  // With a decimal separator named, "1.234,5" is a number; what it does not read stays as it is.
  const s = decimal === undefined ? cell : (normalizeNumberText(cell, decimal) ?? cell);
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

/** NaN, ±Infinity, or a value a reader found no field can store: the import refuses its row. */
function unstorable(v: unknown): boolean {
  return (typeof v === 'number' && !Number.isFinite(v)) || v instanceof UnstorableValue;
}

/**
 * The type of a typed value (JSON, Parquet, xlsx). `foreign`: a Parquet or xlsx reader's value,
 * whose text cells may hold JSON arrays and objects (our own xlsx and Parquet exports write them so).
 */
function valueType(v: unknown, foreign: boolean): FieldType | undefined {
  // An empty string is no value for any type but string (see convertFileValue): no evidence.
  // A value no field stores (its row is refused by the import) says nothing of the column's type.
  if (v === null || v === undefined || v === '' || unstorable(v)) return undefined;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? 'integer' : 'string';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (v instanceof Date) return 'date';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  const s = String(v);
  return isDate(s) ? 'date' : ((foreign ? jsonTextType(s) : undefined) ?? 'string');
}
