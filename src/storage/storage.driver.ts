/**
 * Where export files and uploads live. The interface is streams in and streams out, so no file is
 * ever held in memory, and it is small enough that the S3 driver beside the local one only maps six calls.
 */
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';

/** A byte range, both ends inclusive, as in an HTTP `Range: bytes=start-end` header. */
export interface ByteRange {
  start: number;
  /** Inclusive; omitted means "to the end of the file". */
  end?: number;
}

export interface StoredFileInfo {
  size: number;
  mtime: Date;
}

/** How a caller stops a transfer early: the job's signal (a cancel, a shutdown). */
export interface StorageTransferOptions {
  signal?: AbortSignal | undefined;
}

export interface StorageDriver {
  /**
   * Stores the bytes of `source` under `key`. Atomic: readers see the old file or the whole new
   * one, never a part; a source that fails leaves nothing behind, and a re-run overwrites.
   * The driver owns `source`: when `put` rejects, the source has been destroyed. When `signal`
   * fires, `put` rejects at once and nothing is stored.
   */
  put(key: string, source: Readable, opts?: StorageTransferOptions): Promise<{ size: number }>;
  /**
   * Adopts a file already on local disk (e.g. an upload multer wrote to a temp dir): the file is
   * moved, so `localPath` is gone afterwards. Atomic like `put`.
   */
  putFile(key: string, localPath: string): Promise<{ size: number }>;
  /**
   * The file's bytes, or a part of them. Rejects with NotFoundError when there is no such file.
   * When `signal` fires, the stream is destroyed.
   */
  get(key: string, range?: ByteRange, opts?: StorageTransferOptions): Promise<Readable>;
  /** Size and modification time, or `null` when there is no such file. */
  stat(key: string): Promise<StoredFileInfo | null>;
  /** Removes the file; a missing file is not an error (deleting is idempotent). */
  delete(key: string): Promise<void>;
  /**
   * Removes every file whose key lies under `prefix` taken as a folder: `exports/abc` removes
   * `exports/abc/x.csv` but not `exports/abcd/x.csv`. Optional for drivers that cannot do it.
   */
  deletePrefix?(prefix: string): Promise<void>;
  /** Frees clients and sockets (an object store's); the process calls it once at shutdown. */
  close?(): void;
}

/** A key that would escape the storage root or cannot be stored. A programming error or an attack. */
export class InvalidStorageKeyError extends AppError {
  override name = 'InvalidStorageKeyError';
  constructor(key: string, reason: string) {
    super('invalid_parameter', 400, `The file path is not valid: ${reason}.`, { key: JSON.stringify(key).slice(0, 200) });
  }
}

/**
 * Checks that `key` is a relative path of plain segments (`exports/<jobId>/<file>`) and returns
 * its segments. Refused: empty keys and segments, `.` and `..`, absolute paths, backslashes (a
 * separator on Windows) and control characters (NUL truncates paths in C APIs).
 */
export function keySegments(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidStorageKeyError(String(key), 'it is empty');
  if (key.length > 1024) throw new InvalidStorageKeyError(key, 'it is too long');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: storage keys with control characters are refused on purpose.
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new InvalidStorageKeyError(key, 'it holds a control character');
  if (key.includes('\\')) throw new InvalidStorageKeyError(key, 'it holds a backslash');
  if (key.startsWith('/') || /^[A-Za-z]:/.test(key)) throw new InvalidStorageKeyError(key, 'it is absolute');
  const segments = key.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') throw new InvalidStorageKeyError(key, 'it has an empty, "." or ".." segment');
    if (Buffer.byteLength(s) > 255) throw new InvalidStorageKeyError(key, 'a segment is longer than 255 bytes');
  }
  return segments;
}

/** Keys used by more than one module, so the writer and the reader of a file agree. */
export function exportFileKey(jobId: string, fileName: string): string {
  return checkedKey(`exports/${jobId}/${fileName}`, 3);
}

export function importFileKey(jobId: string, fileName: string): string {
  return checkedKey(`imports/${jobId}/${fileName}`, 3);
}

/** The folder of one job's files, for `deletePrefix`. */
export function jobPrefix(type: 'export' | 'import', jobId: string): string {
  return checkedKey(`${type}s/${jobId}`, 2);
}

function checkedKey(key: string, segments: number): string {
  // A "/" inside the job id or the file name would move the file to another folder.
  if (keySegments(key).length !== segments) throw new InvalidStorageKeyError(key, 'a name holds a "/"');
  return key;
}
