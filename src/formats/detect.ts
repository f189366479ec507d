/**
 * Which format a file is, from its first bytes, never from its name: gzip is opened and the
 * content looked at again; binary formats by their magic bytes; text by its first character
 * (`[` a JSON array, `{` NDJSON, anything else CSV).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InvalidFileError } from '../errors.js';
import type { FileFormat } from './format.js';
import { FORMATS } from './registry.js';
import { detectEncoding, StrictTextDecoder } from './text-encoding.js';
import { xlsxHeadProblem } from './xlsx/index.js';

export const SNIFF_BYTES = 64 * 1024;

/** A file's first bytes, after gzip when it is compressed. */
export interface FileHead {
  head: Buffer;
  /** The head is the whole (decompressed) file. */
  whole: boolean;
  gzip: boolean;
}

export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

export async function readHead(path: string): Promise<FileHead> {
  const fh = await open(path, 'r');
  let raw: Buffer;
  try {
    const buf = Buffer.alloc(SNIFF_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    raw = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (!isGzip(raw)) return { head: raw.subarray(0, SNIFF_BYTES), whole: raw.length <= SNIFF_BYTES, gzip: false };
  const inflated = await gunzipHead(path, SNIFF_BYTES + 1);
  return { head: inflated.subarray(0, SNIFF_BYTES), whole: inflated.length <= SNIFF_BYTES, gzip: true };
}

/** Up to `limit` decompressed bytes of a gzip file, reading no more of it than that takes. */
function gunzipHead(path: string, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const file = createReadStream(path);
    const gunzip = createGunzip();
    const done = (err?: Error) => {
      file.destroy();
      gunzip.destroy();
      if (err) reject(gzipError(err));
      else resolve(Buffer.concat(parts).subarray(0, limit));
    };
    gunzip.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      if (size >= limit) done();
    });
    gunzip.once('end', () => done());
    gunzip.once('error', done);
    file.once('error', done);
    file.pipe(gunzip);
  });
}

/** A gzip stream's failure in words for the user. */
export function gzipError(err: Error): InvalidFileError {
  return new InvalidFileError(`The file is gzip-compressed but cannot be decompressed (${err.message}); it is damaged or cut short.`);
}

// Binary files no registered format reads, recognised only to say clearly why they are refused.
const KNOWN_BINARY: Array<{ problem: (head: Buffer) => string | undefined }> = [
  // A zip that is not a workbook: say what it is (a Word file, an .ods, a plain archive).
  { problem: (h) => (isZip(h) ? xlsxHeadProblem(h) : undefined) },
  { problem: (h) => (isGzip(h) ? 'The file is gzip-compressed twice; decompress it once and send it again.' : undefined) },
];

function isZip(h: Buffer): boolean {
  return h.length >= 4 && h[0] === 0x50 && h[1] === 0x4b && h[2] === 0x03 && h[3] === 0x04;
}

function emptyFile(what: string): InvalidFileError {
  return new InvalidFileError(
    `The file ${what}: there is nothing to import. A CSV file needs at least its header line, a JSON file at least [].`,
  );
}

export interface Detected {
  format: FileFormat;
  /** Text formats: the head as text without a BOM or leading white space. */
  text?: string;
  /** Text formats: the encoding the file is read in (named by the user, or detected). */
  encoding?: string;
  /** The encoding was found from the content rather than named. */
  encodingDetected?: boolean;
}

/**
 * The format of a file head; refuses, with the reason, what no registered format reads. An empty
 * file (0 bytes, after gzip when compressed) or one of nothing but white space is refused too: it
 * holds neither a CSV header nor a JSON array, so it is no file of 0 rows but a mistaken upload.
 */
export function detectFormat({ head, whole, gzip }: FileHead, encoding?: string): Detected {
  if (head.length === 0) throw emptyFile(gzip ? 'is gzip-compressed and decompresses to 0 bytes' : 'is empty (0 bytes)');
  for (const f of FORMATS) if (f.import && f.detect(head, undefined)) return { format: f };
  for (const k of KNOWN_BINARY) {
    const problem = k.problem(head);
    if (problem) throw new InvalidFileError(problem);
  }
  const verdict = detectEncoding(head, whole, encoding);
  if (verdict === undefined) throw binaryFile();
  if ('problem' in verdict) throw new InvalidFileError(verdict.problem);
  const decoder = new StrictTextDecoder(verdict.encoding, 'CSV and JSON files must be saved as UTF-8.');
  let text = decoder.decode(head) + (whole ? decoder.decode() : '');
  // A file said to be in a single-byte encoding still holds no NUL: that is a binary file.
  if (text.includes('\0')) throw binaryFile();
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text = text.trimStart();
  if (text === '' && !whole) throw new InvalidFileError('The file starts with more than 64 KiB of white space; it is not CSV or JSON.');
  if (text === '') throw emptyFile('holds nothing but white space');
  const found = { encoding: verdict.encoding, encodingDetected: verdict.detected };
  for (const f of FORMATS) if (f.import && f.detect(head, text)) return { format: f, text, ...found };
  throw new InvalidFileError('The file is in no format this server reads.');
}

function binaryFile(): InvalidFileError {
  return new InvalidFileError('The file is binary (it contains NUL bytes), not a format this server reads.');
}
