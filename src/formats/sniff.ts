/**
 * A cheap look at an upload before it is queued: reads only the first 64 KiB (after gzip) and
 * refuses what can be known from them (a format no one reads, columns that are not fields of the
 * table, a CSV header that is not one). The format comes from the content (see `detect.ts`).
 */
import { InvalidFileError } from '../errors.js';
import { BUILTIN_FIELDS, type FieldSchema, type FileType } from '../types/api.js';
import { CsvTokenizer } from './csv-tokenizer.js';
import { detectFormat, readHead, type FileHead } from './detect.js';
import { ERROR_REPORT_COLUMN } from './error-report.js';
import { JsonArraySplitter, jsonArrayLimits } from './json/json-array-splitter.js';
import { detectDecimalSeparator } from './number-format.js';
import { UTF8 } from './text-encoding.js';
import { tableFieldsSentence, unknownColumnsError } from './unknown-columns.js';
import { DEFAULT_VALUE_LIMITS, show, type ValueLimits } from './values.js';

export { SNIFF_BYTES } from './detect.js';

export interface SniffOptions {
  fields: readonly FieldSchema[];
  /** CSV: the delimiter the user named; otherwise it is detected. */
  csvDelimiter?: string;
  /** CSV: `false` when the file has no header line. */
  csvHeader?: boolean;
  /** CSV without a header: its columns (default: the schema's fields in order). */
  columns?: string[];
  /** MAX_CELL_BYTES and MAX_JSON_DEPTH; the defaults when omitted. */
  limits?: ValueLimits;
  /** Text formats: the encoding the user named; otherwise it is detected. */
  encoding?: string;
  /** CSV: the decimal separator the user named; otherwise detected with the `;` dialect. */
  decimalSeparator?: '.' | ',';
}

export interface SniffResult {
  format: FileType;
  /** The file is gzip-compressed. */
  gzip?: boolean;
  /** CSV: the header's columns. JSON/NDJSON: the first object's keys, when it is complete in the head. */
  columns?: string[];
  /** CSV: the delimiter found (or given). */
  csvDelimiter?: string;
  /** CSV with `;` whose number cells can only be read with a decimal comma: `,`. */
  decimalSeparator?: ',';
  /** Text formats not in UTF-8: the encoding the file is read in (named, or found from its content). */
  encoding?: string;
}

/** The CSV delimiters tried when none is given, most usual first. */
export const CSV_DELIMITERS = [',', ';', '\t', '|'] as const;

export async function sniffUpload(path: string, opts: SniffOptions): Promise<SniffResult> {
  return sniffHead(await readHead(path), opts);
}

/** The checks of `sniffUpload` on a file's first bytes. */
export function sniffHead(fh: FileHead, opts: SniffOptions): SniffResult {
  const { format, text, encoding } = detectFormat(fh, opts.encoding);
  const known = new Set<string>([...BUILTIN_FIELDS, ...opts.fields.map((f) => f.name)]);
  const knownCsv = new Set<string>([...known, ERROR_REPORT_COLUMN]);
  let result: SniffResult;
  if (text === undefined) result = { format: format.fileType };
  else if (format.fileType === 'json') result = sniffJson(text, fh.whole, known, opts.fields, opts.limits);
  else if (format.fileType === 'ndjson') result = sniffNdjson(text, known, opts.fields);
  else if (format.fileType === 'csv') result = sniffCsv(text, fh.whole, knownCsv, opts);
  else result = { format: format.fileType };
  if (fh.gzip) result.gzip = true;
  if (encoding !== undefined && encoding !== UTF8) result.encoding = encoding;
  return result;
}

function unknownKeys(line: number, keys: string[], known: Set<string>, fields: readonly FieldSchema[]): void {
  const unknown = keys.filter((k) => !known.has(k));
  if (!unknown.length) return;
  throw unknownColumnsError(`line ${line}: the first object`, unknown, fields, line);
}

function sniffJson(text: string, whole: boolean, known: Set<string>, fields: readonly FieldSchema[], limits?: ValueLimits): SniffResult {
  let firstKeys: string[] | undefined;
  let elements = 0;
  const splitter = new JsonArraySplitter((t, start, end, line) => {
    elements++;
    if (elements > 1) return;
    let obj: unknown;
    try {
      obj = JSON.parse(t.slice(start, end));
    } catch (err) {
      throw new InvalidFileError(`line ${line}: the first object is not valid JSON (${(err as Error).message}).`, { line });
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return;
    firstKeys = Object.keys(obj);
    unknownKeys(line, firstKeys, known, fields);
  }, jsonArrayLimits(limits));
  splitter.write(text);
  if (whole) splitter.end();
  return firstKeys ? { format: 'json', columns: firstKeys } : { format: 'json' };
}

function sniffNdjson(text: string, known: Set<string>, fields: readonly FieldSchema[]): SniffResult {
  const nl = text.indexOf('\n');
  if (nl === -1) return { format: 'ndjson' };
  let obj: unknown;
  try {
    obj = JSON.parse(text.slice(0, nl));
  } catch {
    throw new InvalidFileError(
      'The file starts with "{" but its first line is not a whole JSON object: NDJSON needs one object per line, and a JSON file must hold an array of objects ([{...}, {...}]).',
    );
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { format: 'ndjson' };
  const keys = Object.keys(obj);
  unknownKeys(1, keys, known, fields);
  return { format: 'ndjson', columns: keys };
}

/** The first CSV record of `text` split by `delimiter`, or undefined when it does not end in the head. */
function firstRecord(text: string, whole: boolean, delimiter: string, limits = DEFAULT_VALUE_LIMITS): string[] | undefined {
  let first: string[] | undefined;
  const maxCell = limits.maxCellBytes;
  const tokenizer = new CsvTokenizer(
    (cells, count) => {
      if (first === undefined) first = cells.slice(0, count).map((c) => c ?? '');
    },
    delimiter,
    maxCell,
  );
  try {
    tokenizer.write(text);
    if (whole) tokenizer.end();
  } catch (err) {
    if (!(err instanceof InvalidFileError)) throw err;
    // A quoting problem past the first record belongs to the import's report; in it, it is fatal.
    if (first === undefined) throw new InvalidFileError(`The file is neither JSON nor valid CSV: ${err.message}`, err.details);
  }
  return first;
}

/**
 * The delimiter whose split of the first line names the most fields of the table (with no
 * header: gives the expected number of columns); a comma when none does better.
 */
function detectDelimiter(text: string, whole: boolean, known: Set<string>, expected: number | undefined, limits?: ValueLimits): string {
  let best = ',';
  let bestScore = 0;
  for (const d of CSV_DELIMITERS) {
    let cells: string[] | undefined;
    try {
      cells = firstRecord(text, whole, d, limits);
    } catch {
      continue;
    }
    if (!cells) continue;
    const score = expected === undefined ? cells.filter((c) => known.has(c)).length : cells.length === expected ? 1 : 0;
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

function sniffCsv(text: string, whole: boolean, known: Set<string>, opts: SniffOptions): SniffResult {
  if (opts.csvHeader === false) {
    const columns = opts.columns ?? opts.fields.map((f) => f.name);
    const unknown = columns.filter((c) => !known.has(c));
    if (unknown.length) throw unknownColumnsError('"columns"', unknown, opts.fields);
    const csvDelimiter = opts.csvDelimiter ?? detectDelimiter(text, whole, known, columns.length, opts.limits);
    return withDecimal({ format: 'csv', columns, csvDelimiter }, text, whole, 0, opts);
  }
  const csvDelimiter = opts.csvDelimiter ?? detectDelimiter(text, whole, known, undefined, opts.limits);
  const header = firstRecord(text, whole, csvDelimiter, opts.limits);
  if (header === undefined) {
    throw new InvalidFileError('The CSV header (its first line) is longer than 64 KiB or never ends; the file is not a usable CSV.');
  }
  const unknown = header.filter((h) => !known.has(h));
  if (unknown.length === header.length) {
    throw new InvalidFileError(
      `The file is neither JSON nor a CSV whose first line names fields of the table; its first line is ${show(text.slice(0, text.search(/\r|\n|$/)))}. ${tableFieldsSentence(opts.fields)}.`,
      { columns: unknown },
    );
  }
  if (unknown.length) throw unknownColumnsError('The CSV header', unknown, opts.fields, 1);
  const dup = header.filter((h, i) => header.indexOf(h) !== i);
  if (dup.length) {
    throw new InvalidFileError(`The CSV header names ${[...new Set(dup)].map((h) => JSON.stringify(h)).join(', ')} more than once.`, {
      columns: [...new Set(dup)],
    });
  }
  // The whole file is in hand: a quoting problem in its rows (an unclosed quote in the only row) is
  // refused now, saying what is wrong, rather than after a trip through the queue.
  if (whole) {
    const problem = csvQuotingProblem(text, csvDelimiter, opts.limits);
    if (problem) throw problem;
  }
  return withDecimal({ format: 'csv', columns: header, csvDelimiter }, text, whole, 1, opts);
}

/**
 * The `;` dialect of European Excel writes numbers with a decimal comma: when the number cells of
 * the head can only be read that way (see `detectDecimalSeparator`), the import reads them so.
 */
function withDecimal(result: SniffResult, text: string, whole: boolean, firstData: number, opts: SniffOptions): SniffResult {
  if (opts.decimalSeparator !== undefined || result.csvDelimiter !== ';' || !result.columns) return result;
  const numeric = new Set(opts.fields.filter((f) => f.type === 'number' || f.type === 'integer').map((f) => f.name));
  const at = result.columns.flatMap((c, i) => (numeric.has(c) ? [i] : []));
  if (!at.length) return result;
  const cells: string[] = [];
  let record = 0;
  const tokenizer = new CsvTokenizer((row, count) => {
    if (record++ < firstData) return;
    for (const i of at) if (i < count && row[i]) cells.push(row[i] as string);
  }, ';');
  try {
    tokenizer.write(text);
    if (whole) tokenizer.end();
  } catch {
    // A quoting problem is the import's to report; the records before it are evidence enough.
  }
  if (detectDecimalSeparator(cells) === ',') result.decimalSeparator = ',';
  return result;
}

function csvQuotingProblem(text: string, delimiter: string, limits?: ValueLimits): InvalidFileError | undefined {
  const tokenizer = new CsvTokenizer(() => undefined, delimiter, limits?.maxCellBytes);
  try {
    tokenizer.write(text);
    tokenizer.end();
    return undefined;
  } catch (err) {
    if (err instanceof InvalidFileError) return err;
    throw err;
  }
}

/**
 * The first look at a file whose table does not exist yet (schema inference): its format, and for
 * CSV the delimiter that splits the header into the most columns (ties: the usual order).
 */
export async function sniffForInference(path: string, opts: Omit<SniffOptions, 'fields'>): Promise<SniffResult> {
  const fh = await readHead(path);
  const { format, text, encoding } = detectFormat(fh, opts.encoding);
  const result: SniffResult = { format: format.fileType };
  if (fh.gzip) result.gzip = true;
  if (encoding !== undefined && encoding !== UTF8) result.encoding = encoding;
  if (format.fileType === 'csv' && text !== undefined) {
    let best = ',';
    let most = 0;
    for (const d of opts.csvDelimiter ? [opts.csvDelimiter] : CSV_DELIMITERS) {
      let cells: string[] | undefined;
      try {
        cells = firstRecord(text, fh.whole, d, opts.limits);
      } catch {
        continue;
      }
      if (cells && cells.length > most) {
        best = d;
        most = cells.length;
      }
    }
    result.csvDelimiter = best;
    // No schema yet: every column's cells are evidence of the decimal separator.
    const header = opts.csvHeader === false ? opts.columns : firstRecord(text, fh.whole, best);
    if (header) {
      const fields = header.map((name) => ({ name, type: 'number' as const }));
      const found = withDecimal({ format: 'csv', columns: header, csvDelimiter: best }, text, fh.whole, opts.csvHeader === false ? 0 : 1, {
        ...opts,
        fields,
      });
      if (found.decimalSeparator) result.decimalSeparator = found.decimalSeparator;
    }
  }
  return result;
}
