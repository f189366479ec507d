import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import multer from 'multer';
import { FileTooLargeError, InvalidParameterError } from '../../errors.js';

/**
 * Receives the multipart field `file` to disk, never to memory, in a folder beside the storage
 * root so that adopting it into storage is a rename, not a copy.
 */
export function createUploadReceiver(storageDir: string, maxBytes: number) {
  const dest = join(storageDir, '.incoming');
  mkdirSync(dest, { recursive: true });
  const single = multer({ dest, limits: { fileSize: maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024 } }).single('file');
  return (req: Request, res: Response): Promise<Express.Multer.File | undefined> =>
    new Promise((resolve, reject) => {
      single(req, res, (err: unknown) => {
        if (!err) return resolve(req.file);
        if (err instanceof multer.MulterError) {
          if (err.code === 'LIMIT_FILE_SIZE') return reject(new FileTooLargeError(maxBytes));
          return reject(new InvalidParameterError(err.field ?? 'file', `The upload was refused: ${err.message}. Send one file as the field "file".`));
        }
        reject(err);
      });
    });
}
