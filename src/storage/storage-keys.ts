/**
 * The service's layout of its own files: a key is a relative path of plain segments
 * (`exports/<jobId>/<file>`, `imports/<jobId>/<file>`), checked before any place sees it.
 */
import { AppError } from '../errors.js';

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
