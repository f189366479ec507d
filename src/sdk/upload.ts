/**
 * Builds the `multipart/form-data` body of an import without holding the file in memory: a path
 * becomes a file-backed Blob (Node reads it while sending, and the length is known), and a stream
 * is framed by hand into a pull-based body, so it is read only as fast as the socket takes it.
 */
import { randomBytes } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
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
}

/** @internal A request body and the headers that go with it. */
export interface UploadBody {
  body: FormData | ReadableStream<Uint8Array>;
  headers: Record<string, string>;
}

const TYPES: Record<string, string> = { '.csv': 'text/csv', '.json': 'application/json' };

/** @internal */
export async function buildUpload(source: ImportSource, options: ImportOptions = {}): Promise<UploadBody> {
  if (typeof source === 'string' || source instanceof URL) {
    const path = source instanceof URL ? fileURLToPath(source) : source;
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw new InvalidArgumentError(`Cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}.`);
    });
    if (!info.isFile()) throw new InvalidArgumentError(`${path} is not a file.`);
    const filename = options.filename ?? basename(path);
    const blob = await openAsBlob(path, { type: contentTypeOf(filename, options) });
    return formBody(blob, filename);
  }
  if (source instanceof Uint8Array) {
    const filename = requireName(options.filename, 'a Buffer');
    return formBody(new Blob([source], { type: contentTypeOf(filename, options) }), filename);
  }
  if (source instanceof Blob) {
    const named = (source as Partial<File>).name;
    const filename = options.filename ?? (named ? named : requireName(undefined, 'a Blob without a name'));
    const blob = source.type ? source : new Blob([source], { type: contentTypeOf(filename, options) });
    return formBody(blob, filename);
  }
  if (source instanceof ReadableStream || isNodeReadable(source)) {
    const streamPath = (source as { path?: unknown }).path;
    const filename =
      options.filename ??
      (typeof streamPath === 'string' ? basename(streamPath) : requireName(undefined, 'a stream without a path'));
    const chunks: AsyncIterable<Uint8Array> =
      source instanceof ReadableStream ? (Readable.fromWeb(source as never) as AsyncIterable<Uint8Array>) : (source as AsyncIterable<Uint8Array>);
    return streamBody(chunks, filename, contentTypeOf(filename, options));
  }
  throw new InvalidArgumentError('import() takes a file path, a Buffer, a Blob or a readable stream.');
}

function formBody(blob: Blob, filename: string): UploadBody {
  const form = new FormData();
  form.append('file', blob, filename);
  // fetch sets the content type with its boundary, and streams the Blob's parts.
  return { body: form, headers: {} };
}

/** Frames a stream as a one-part multipart body, read on demand. */
export function streamBody(chunks: AsyncIterable<Uint8Array>, filename: string, contentType: string): UploadBody {
  const boundary = `----tableport${randomBytes(16).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="file"; filename="${escapeQuoted(filename)}"\r\n` +
      `Content-Type: ${contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* parts(): AsyncGenerator<Uint8Array> {
    yield head;
    for await (const chunk of chunks) {
      yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    }
    yield tail;
  }
  const it = parts();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await it.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        await it.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

function contentTypeOf(filename: string, options: ImportOptions): string {
  return options.contentType ?? TYPES[extname(filename).toLowerCase()] ?? 'application/octet-stream';
}

function requireName(name: string | undefined, what: string): string {
  if (name) return name;
  throw new InvalidArgumentError(
    `Importing from ${what} needs { filename } (e.g. "rows.csv"): its extension tells the server the format.`,
  );
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
