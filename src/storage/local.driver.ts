/**
 * Storage on the local disk, under one root folder. A key maps to a path below the root.
 * The S3 driver beside this one (s3.driver.ts) keeps the same contract in a bucket.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../errors.js';
import {
  InvalidStorageKeyError,
  keySegments,
  type ByteRange,
  type StorageDriver,
  type StorageTransferOptions,
  type StoredFileInfo,
} from './storage.driver.js';

export class LocalStorageDriver implements StorageDriver {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The absolute path of `key`; refuses keys that would leave the root. */
  pathOf(key: string): string {
    const path = join(this.root, ...keySegments(key));
    // keySegments already refuses "..", this is the belt to its braces.
    if (!path.startsWith(this.root + sep)) throw new InvalidStorageKeyError(key, 'it leaves the storage folder');
    return path;
  }

  async put(key: string, source: Readable, opts: StorageTransferOptions = {}): Promise<{ size: number }> {
    if (opts.signal) addAbortSignal(opts.signal, source);
    const target = this.pathOf(key);
    // Until pipeline() listens, an 'error' from the source would have no listener and crash the
    // process; pipeline() still sees such an error (stream.errored) and rejects with it.
    const hold = (): void => undefined;
    source.on('error', hold);
    let tmp: string;
    try {
      tmp = await this.tempPathFor(target);
    } catch (err) {
      // The source will never be read: end it, or whatever feeds it (a COPY holding a pooled connection) waits forever.
      source.destroy(err as Error);
      throw err;
    } finally {
      source.off('error', hold);
    }
    try {
      const out = createWriteStream(tmp, { flags: 'wx' });
      await pipeline(source, out);
      // Rename is atomic within one filesystem; the temp file sits beside the target for that.
      await rename(tmp, target);
      return { size: out.bytesWritten };
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  async putFile(key: string, localPath: string): Promise<{ size: number }> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(localPath, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      // Another filesystem (a tmpfs upload dir, a mounted volume): copy beside the target, then
      // rename, so the key never shows a half-copied file.
      const tmp = await this.tempPathFor(target);
      try {
        await copyFile(localPath, tmp);
        await rename(tmp, target);
      } catch (copyErr) {
        await unlink(tmp).catch(() => undefined);
        throw copyErr;
      }
      await unlink(localPath).catch(() => undefined);
    }
    const s = await stat(target);
    return { size: s.size };
  }

  async get(key: string, range?: ByteRange, opts: StorageTransferOptions = {}): Promise<Readable> {
    const path = this.pathOf(key);
    if (range) checkRange(range);
    // Open first, so a missing file is a NotFoundError here and not an 'error' event later, and a
    // file deleted after this point still streams whole (the descriptor keeps it alive).
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError('The file does not exist.');
      throw err;
    }
    try {
      if (!(await handle.stat()).isFile()) throw new NotFoundError('The file does not exist.');
    } catch (err) {
      await handle.close();
      throw err;
    }
    const stream = handle.createReadStream(range ? { start: range.start, end: range.end ?? Number.POSITIVE_INFINITY } : {});
    return opts.signal ? addAbortSignal(opts.signal, stream) : stream;
  }

  async stat(key: string): Promise<StoredFileInfo | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { size: s.size, mtime: s.mtime } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix.replace(/\/+$/, '')), { recursive: true, force: true });
  }

  /**
   * A fresh name beside `target`, hidden and unique per writer, so two writers of one key never
   * share a temp file and the last rename wins whole.
   */
  private async tempPathFor(target: string): Promise<string> {
    await mkdir(dirname(target), { recursive: true });
    return join(dirname(target), `.${basename(target).slice(0, 180)}.${randomUUID()}.part`);
  }
}

function checkRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new RangeError(`Invalid byte range ${start}-${end ?? ''}.`);
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
