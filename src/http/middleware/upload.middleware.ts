import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import multer from 'multer';
import { AppError, FileTooLargeError, InsufficientStorageError, InvalidParameterError, InvalidUploadError } from '../../errors.js';

/** CR, LF, NUL and the other control characters: they break headers, logs and PostgreSQL text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters in file names is the point.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Receives the multipart field `file` to disk, never to memory, in a folder beside the storage
 * root so that adopting it into storage is a rename, not a copy. The temp file is removed when the
 * response is done, whatever became of the request (a job that adopted it has moved it already).
 */
export function createUploadReceiver(storageDir: string, maxBytes: number) {
  const dest = join(storageDir, '.incoming');
  mkdirSync(dest, { recursive: true });
  const single = multer({
    dest,
    // Browsers and curl send UTF-8 file names without saying so; busboy's default is latin1.
    defParamCharset: 'utf8',
    limits: { fileSize: maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024 },
  }).single('file');
  return async (req: Request, res: Response): Promise<Express.Multer.File | undefined> => {
    checkUploadHeaders(req);
    const file = await new Promise<Express.Multer.File | undefined>((resolve, reject) => {
      single(req, res, (err: unknown) => (err ? reject(uploadError(err, maxBytes)) : resolve(req.file)));
    });
    if (file) res.once('close', () => void rm(file.path, { force: true }).catch(() => undefined));
    if (file && CONTROL_CHARS.test(file.originalname)) {
      await rm(file.path, { force: true });
      throw new InvalidUploadError(
        'The file name contains a control character (such as CR, LF or NUL); rename the file and send it again.',
      );
    }
    return file;
  };
}

/** What can be refused from the headers alone, before a byte of the body is read. */
function checkUploadHeaders(req: Request): void {
  const type = req.get('content-type') ?? '';
  if (/^multipart\//i.test(type) && !/;\s*boundary=/i.test(type)) {
    throw new InvalidUploadError(
      'The Content-Type is multipart but names no boundary; send multipart/form-data as your HTTP client builds it.',
    );
  }
  const encoding = (req.get('content-encoding') ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    throw new InvalidUploadError(
      `A multipart upload cannot be sent with Content-Encoding "${encoding}"; compress the file itself (e.g. data.csv.gz) and send it uncompressed.`,
    );
  }
}

/** multer's and busboy's errors, and the disk's, in the API's words. */
export function uploadError(err: unknown, maxBytes: number): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') return new FileTooLargeError(maxBytes);
    return new InvalidParameterError(err.field ?? 'file', `The upload was refused: ${err.message}. Send one file as the field "file".`);
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && DISK_FULL.has(code)) return new InsufficientStorageError();
  const message = err instanceof Error ? err.message : '';
  if (/^(Unexpected end of (form|file)|Malformed part header|Multipart: Boundary not found|Malformed urlencoded form)/.test(message)) {
    return new InvalidUploadError(
      `The multipart/form-data body is not valid: ${message.toLowerCase()}. Send the whole body, as your HTTP client builds it.`,
    );
  }
  if (message === 'aborted' || code === 'ECONNRESET') return new InvalidUploadError('The upload was cut off before it ended.');
  return err;
}
