/**
 * Builds the `multipart/form-data` body of an import without holding the file in memory: the file
 * part is framed by hand around the source's chunks, which are read only as fast as the socket
 * takes them. (Node 20's `fetch` reads a request body ahead of the socket, FormData and Blob bodies
 * included, so a 200 MB upload through it costs 200 MB of memory; see `Transport.upload`.)
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { OnConflict } from '../types/api.js';
import { InvalidArgumentError } from './errors.js';

/**
 * What an import can read from: a file path (string or `file:` URL), a `Buffer`/`Uint8Array`,
 * a `Blob` (or `File`), a Node readable stream, or a web `ReadableStream`.
 */
export type ImportSource = string | URL | Uint8Array | Blob | NodeJS.ReadableStream | ReadableStream<Uint8Array>;

/** Options of an import upload. */
export interface ImportOptions {
  /**
   * The file name sent to the server; its extension (`.csv` or `.json`) says the format. Taken from
   * the path, a `File`'s name or an `fs.ReadStream`'s path when not given; required otherwise.
   */
  filename?: string;
  /** The part's content type; guessed from the extension when not given. */
  contentType?: string;
  /** CSV: the cell separator; otherwise the server finds it among `,` `;` TAB `|`. */
  csvDelimiter?: string;
  /** CSV: `false` when the file has no header line (columns: `columns`, or the table's fields in order). */
  csvHeader?: boolean;
  /** CSV without a header: its columns, in order. */
  columns?: string[];
  /** Text files: their encoding (`utf-16le`, `gb18030`, `big5`, `shift_jis`, `windows-1252`, ...); the server detects UTF-8, UTF-16 and clear GB18030 itself. */
  encoding?: string;
  /** CSV number fields: the decimal separator, `.` or `,` (then `.` and spaces group thousands); detected with the `;` dialect when unambiguous. */
  decimalSeparator?: '.' | ',';
  /** xlsx: the sheet to read, by name or 1-based index; default the one sheet whose header matches the table. */
  sheet?: string | number;
  /** A row whose id (or `conflictKey`) is already in the table: `error` (default), `skip` it, or `update` the row. */
  onConflict?: OnConflict;
  /**
   * With `onConflict` `skip` or `update`: the field(s) that find a row's existing row instead of `id`,
   * e.g. `'email'` or `['email', 'name']`. Each key must be in the file once and match at most one row.
   */
  conflictKey?: string | string[];
  /** File column → the field it fills, or `null` to drop the column, e.g. `{ 'E-mail': 'email', Notes: null }`. */
  mapping?: Record<string, string | null>;
  /** Validate the whole file and write nothing (does not use up the table's minute). */
  dryRun?: boolean;
  /** `false`: no email when the job ends. */
  email?: boolean;
}

const TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.ndjson': 'application/x-ndjson',
  '.jsonl': 'application/x-ndjson',
  '.gz': 'application/gzip',
  '.parquet': 'application/vnd.apache.parquet',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** @internal The form fields an import sends beside its file. */
export function importFields(options: ImportOptions): Record<string, string> {
  const f: Record<string, string> = {};
  if (options.csvDelimiter !== undefined) f.csv_delimiter = options.csvDelimiter;
  if (options.csvHeader !== undefined) f.csv_header = String(options.csvHeader);
  if (options.columns !== undefined) f.columns = options.columns.join(',');
  if (options.encoding !== undefined) f.encoding = options.encoding;
  if (options.decimalSeparator !== undefined) f.decimal_separator = options.decimalSeparator;
  if (options.sheet !== undefined) f.sheet = String(options.sheet);
  if (options.onConflict !== undefined) f.on_conflict = options.onConflict;
  if (options.conflictKey !== undefined) f.conflict_key = [options.conflictKey].flat().join(',');
  if (options.mapping !== undefined) f.mapping = JSON.stringify(options.mapping);
  if (options.dryRun !== undefined) f.dry_run = String(options.dryRun);
  if (options.email !== undefined) f.email = String(options.email);
  return f;
}

/** @internal A multipart body, produced on demand, and its length when known ahead. */
export interface UploadBody {
  parts: AsyncIterable<Uint8Array>;
  contentType: string;
  length: number | undefined;
}

/** @internal */
export async function buildUpload(source: ImportSource, options: ImportOptions = {}): Promise<UploadBody> {
  if (typeof source === 'string' || source instanceof URL) {
    const path = source instanceof URL ? fileURLToPath(source) : source;
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw new InvalidArgumentError(`Cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}.`);
    });
    if (!info.isFile()) throw new InvalidArgumentError(`${path} is not a file.`);
    const filename = options.filename ?? basename(path);
    return multipart(createReadStream(path), info.size, filename, contentTypeOf(filename, options), importFields(options));
  }
  if (source instanceof Uint8Array) {
    const filename = requireName(options.filename, 'a Buffer');
    return multipart([source], source.byteLength, filename, contentTypeOf(filename, options), importFields(options));
  }
  if (source instanceof Blob) {
    const named = (source as Partial<File>).name;
    const filename = options.filename ?? (named ? named : requireName(undefined, 'a Blob without a name'));
    const type = options.contentType ?? (source.type || contentTypeOf(filename, options));
    return multipart(source.stream() as unknown as AsyncIterable<Uint8Array>, source.size, filename, type, importFields(options));
  }
  if (source instanceof ReadableStream || isNodeReadable(source)) {
    const streamPath = (source as { path?: unknown }).path;
    const filename =
      options.filename ?? (typeof streamPath === 'string' ? basename(streamPath) : requireName(undefined, 'a stream without a path'));
    const chunks =
      source instanceof ReadableStream
        ? (Readable.fromWeb(source as never) as AsyncIterable<Uint8Array>)
        : (source as AsyncIterable<Uint8Array>);
    return multipart(chunks, undefined, filename, contentTypeOf(filename, options), importFields(options));
  }
  throw new InvalidArgumentError('import() takes a file path, a Buffer, a Blob or a readable stream.');
}

/** Frames one file as the multipart field `file`; its chunks are read only as they are sent. */
export function multipart(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>,
  size: number | undefined,
  filename: string,
  partType: string,
  fields: Record<string, string> = {},
): UploadBody {
  const boundary = `----tableport${randomBytes(16).toString('hex')}`;
  // Fields go before the file, so the server has them when the file arrives.
  const fieldParts = Object.entries(fields)
    .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(name)}"\r\n\r\n${value}\r\n`)
    .join('');
  const head = Buffer.from(
    fieldParts +
      `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="file"; filename="${escapeQuoted(filename)}"\r\n` +
      `Content-Type: ${partType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* parts(): AsyncGenerator<Uint8Array> {
    yield head;
    for await (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    yield tail;
  }
  return {
    parts: parts(),
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: size === undefined ? undefined : head.length + size + tail.length,
  };
}

/** @internal A pull-based web stream over an async iterable, for a caller-supplied `fetch`. */
export function toWebStream(parts: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = parts[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await it.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        await it.return?.(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

function contentTypeOf(filename: string, options: ImportOptions): string {
  return options.contentType ?? TYPES[extname(filename).toLowerCase()] ?? 'application/octet-stream';
}

function requireName(name: string | undefined, what: string): string {
  if (name) return name;
  throw new InvalidArgumentError(`Importing from ${what} needs { filename } (e.g. "rows.csv"): its extension tells the server the format.`);
}

// The WHATWG multipart encoding of a quoted name: a browser sends the same bytes.
function escapeQuoted(s: string): string {
  return s.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}

function isNodeReadable(x: unknown): x is NodeJS.ReadableStream {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as NodeJS.ReadableStream).pipe === 'function' &&
    typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}
