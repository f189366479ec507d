/**
 * A cheap look at an upload before it is queued: reads only the first 64 KiB and refuses what can
 * be known from them (empty, binary, neither CSV nor a JSON array, a name that contradicts the
 * content, columns that are not fields of the table). The format comes from the content.
 */
import { open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { InvalidFileError } from '../errors.js';
import { BUILTIN_FIELDS, type FieldSchema } from '../types/api.js';
import { CsvTokenizer } from './csv-tokenizer.js';
import { JsonArraySplitter } from './json-array-splitter.js';
import { incompleteTail } from './utf8.js';
import { show } from './values.js';
import { isUtf8 } from 'node:buffer';

export const SNIFF_BYTES = 64 * 1024;

export interface SniffOptions {
  fields: readonly FieldSchema[];
  /** The name the user gave the file; its extension must agree with the content. */
  originalName?: string;
}

export interface SniffResult {
  format: 'csv' | 'json';
  /** CSV: the header's columns. JSON: the first object's keys, when it is complete in the head. */
  columns?: string[];
}

export async function sniffUpload(path: string, opts: SniffOptions): Promise<SniffResult> {
  const fh = await open(path, 'r');
  let head: Buffer;
  let whole: boolean;
  try {
    const buf = Buffer.alloc(SNIFF_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    whole = bytesRead <= SNIFF_BYTES;
    head = buf.subarray(0, Math.min(bytesRead, SNIFF_BYTES));
  } finally {
    await fh.close();
  }
  return sniffHead(head, whole, opts);
}

/** The checks of `sniffUpload` on a file's first bytes; `whole` says they are the entire file. */
export function sniffHead(head: Buffer, whole: boolean, opts: SniffOptions): SniffResult {
  const name = opts.originalName ? basename(opts.originalName) : undefined;
  const ext = name ? extname(name).toLowerCase() : '';
  if (ext !== '' && ext !== '.csv' && ext !== '.json') {
    throw new InvalidFileError(`Only .csv and .json files can be imported; "${name}" is neither.`);
  }
  if (head.length === 0) throw new InvalidFileError('The file is empty.');
  if (head.includes(0)) throw new InvalidFileError('The file is binary (it contains NUL bytes), not CSV or JSON text.');
  const checked = whole ? head : head.subarray(0, head.length - incompleteTail(head));
  if (!isUtf8(checked)) throw new InvalidFileError('The file is not UTF-8 text; CSV and JSON files must be saved as UTF-8.');

  let text = checked.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = /\S/.exec(text);
  if (!first) {
    if (whole) throw new InvalidFileError('The file is empty: it holds only white space.');
    throw new InvalidFileError('The file starts with more than 64 KiB of white space; it is not CSV or JSON.');
  }
  const known = new Set<string>([...BUILTIN_FIELDS, ...opts.fields.map((f) => f.name)]);
  const c = first[0];
  if (c === '[' || c === '{') {
    if (ext === '.csv') throw new InvalidFileError(`The file is named "${name}" but holds JSON, not CSV.`);
    if (c === '{') {
      throw new InvalidFileError('The JSON file must hold an array of row objects ([{...}, {...}]), but it holds a single object.');
    }
    return sniffJson(checked, whole, known);
  }
  if (ext === '.json') throw new InvalidFileError(`The file is named "${name}" but does not hold a JSON array; it looks like CSV.`);
  return sniffCsv(text, whole, known);
}

function sniffJson(head: Buffer, whole: boolean, known: Set<string>): SniffResult {
  let firstKeys: string[] | undefined;
  let elements = 0;
  const splitter = new JsonArraySplitter((text, start, end, line) => {
    elements++;
    if (elements > 1) return;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(text.slice(start, end)) as Record<string, unknown>;
    } catch (err) {
      throw new InvalidFileError(`line ${line}: the first object is not valid JSON (${(err as Error).message}).`, { line });
    }
    firstKeys = Object.keys(obj);
    const unknown = firstKeys.filter((k) => !known.has(k));
    if (unknown.length) {
      throw new InvalidFileError(
        `line ${line}: the first object has ${unknown.length === 1 ? 'a key that is not a field' : 'keys that are not fields'} of the table: ${unknown.map((k) => JSON.stringify(k)).join(', ')}.`,
        { line, columns: unknown },
      );
    }
  });
  splitter.write(head.toString('utf8'));
  if (whole) {
    splitter.end();
    if (elements === 0) throw new InvalidFileError('The file is empty: its JSON array has no rows.');
  }
  return firstKeys ? { format: 'json', columns: firstKeys } : { format: 'json' };
}

function sniffCsv(text: string, whole: boolean, known: Set<string>): SniffResult {
  let header: string[] | undefined;
  let dataRecords = 0;
  let quoting: InvalidFileError | undefined;
  const tokenizer = new CsvTokenizer((cells, count) => {
    if (header === undefined) header = cells.slice(0, count).map((c) => c ?? '');
    else dataRecords++;
  });
  try {
    tokenizer.write(text);
    if (whole) tokenizer.end();
  } catch (err) {
    if (!(err instanceof InvalidFileError)) throw err;
    // A quoting problem past the header belongs to the import's report; in the header it is fatal.
    if (header === undefined) throw new InvalidFileError(`The file is neither a JSON array nor valid CSV: ${err.message}`, err.details);
    quoting = err;
  }
  if (header === undefined) {
    throw new InvalidFileError('The CSV header (its first line) is longer than 64 KiB or never ends; the file is not a usable CSV.');
  }
  const unknown = header.filter((h) => !known.has(h));
  if (unknown.length === header.length) {
    throw new InvalidFileError(
      `The file is neither a JSON array nor a CSV whose first line names fields of the table; its first line is ${show(text.slice(0, text.search(/\r|\n|$/)))}.`,
      { columns: unknown },
    );
  }
  if (unknown.length) {
    throw new InvalidFileError(
      `The CSV header names ${unknown.length === 1 ? 'a column that is not a field' : 'columns that are not fields'} of the table: ${unknown.map((h) => JSON.stringify(h)).join(', ')}.`,
      { columns: unknown },
    );
  }
  const dup = header.filter((h, i) => header!.indexOf(h) !== i);
  if (dup.length) {
    throw new InvalidFileError(`The CSV header names ${[...new Set(dup)].map((h) => JSON.stringify(h)).join(', ')} more than once.`, {
      columns: [...new Set(dup)],
    });
  }
  // The only data row may be unreadable (an unclosed quote): say that, not that there are no rows.
  if (whole && dataRecords === 0 && quoting) throw quoting;
  if (whole && dataRecords === 0) throw new InvalidFileError('The file is empty: the CSV has a header but no rows.');
  return { format: 'csv', columns: header };
}
