/**
 * The service's own files (export files, uploads waiting for their import, error reports): one
 * configured place (STORAGE_DIR or STORAGE_URL) on the location drivers, seen through the service's
 * layout of checked keys. This facade adds only that layout, whole-file semantics and the errors a
 * user of the service reads: a missing file is `not_found`, a store that fails is a 503 that does
 * not name the operator's endpoint (the log line does).
 */
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import type { Config } from '../config.js';
import {
  InvalidLocationError,
  LocationAccessDeniedError,
  LocationNotFoundError,
  LocationUnavailableError,
  NotFoundError,
  ServiceUnavailableError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import {
  childLocation,
  ownStoragePlace,
  writeObject,
  type ByteRange,
  type LocationContext,
  type ParsedLocation,
  type StoredObjectInfo,
  type StoreDriver,
} from '../locations/index.js';
import { OutboundTimeoutError } from '../net/outbound-deadline.js';
import { keySegments } from './storage-keys.js';

/** How a caller stops a transfer early: the job's signal (a cancel, a shutdown). */
export interface StorageTransferOptions {
  signal?: AbortSignal | undefined;
}

export interface ServiceStorage {
  /**
   * Stores the bytes of `source` under `key`. Atomic: readers see the old file or the whole new
   * one, never a part; a source that fails leaves nothing behind, and a re-run overwrites.
   * The storage owns `source`: when `put` rejects, the source has been destroyed. When `signal`
   * fires, `put` rejects at once and nothing is stored.
   */
  put(key: string, source: Readable, opts?: StorageTransferOptions): Promise<{ size: number }>;
  /**
   * Adopts a file already on local disk (e.g. an upload multer wrote to a temp dir): the file is
   * moved, so `localPath` is gone afterwards. Atomic like `put`.
   */
  putFile(key: string, localPath: string): Promise<{ size: number }>;
  /** The file's bytes, or a part of them; NotFoundError when there is no such file. `signal` destroys the stream. */
  get(key: string, range?: ByteRange, opts?: StorageTransferOptions): Promise<Readable>;
  /** Size and modification time, or `null` when there is no such file. */
  stat(key: string): Promise<StoredObjectInfo | null>;
  /** Removes the file; a missing file is not an error (deleting is idempotent). */
  delete(key: string): Promise<void>;
  /** Removes every file under `prefix` taken as a folder: `exports/abc` removes `exports/abc/x.csv`, not `exports/abcd/x.csv`. */
  deletePrefix(prefix: string): Promise<void>;
  /** Frees clients and sockets (an object store's); the process calls it once at shutdown. */
  close?(): void;
}

/** The storage the configuration asks for, on the process's one location context. */
export function createStorage(config: Pick<Config, 'storageDir' | 'storageS3'>, ctx: LocationContext): ServiceStorage {
  const { driver, location } = ownStoragePlace(config, ctx);
  return new PlaceStorage(driver, location, ctx.logger);
}

class PlaceStorage implements ServiceStorage {
  constructor(
    private readonly driver: StoreDriver,
    private readonly root: ParsedLocation,
    private readonly logger: Logger | undefined,
  ) {}

  async put(key: string, source: Readable, opts: StorageTransferOptions = {}): Promise<{ size: number }> {
    let at: ParsedLocation;
    try {
      at = this.at(key);
    } catch (err) {
      // The source will never be read: end it, or whatever feeds it (a COPY on a pooled connection) waits forever.
      source.destroy();
      throw err;
    }
    const { size } = await this.mapped(writeObject(this.driver, at, source, { signal: opts.signal }));
    return { size };
  }

  async putFile(key: string, localPath: string): Promise<{ size: number }> {
    const at = this.at(key); // refuse a bad key before reading anything
    if (this.driver.moveIn) return this.mapped(this.driver.moveIn(localPath, at));
    const { size } = await this.mapped(writeObject(this.driver, at, createReadStream(localPath)));
    await unlink(localPath).catch(() => undefined);
    return { size };
  }

  async get(key: string, range?: ByteRange, opts: StorageTransferOptions = {}): Promise<Readable> {
    const at = this.at(key);
    if (range) checkRange(range);
    const opened = await this.mapped(this.driver.openRead(at, { range, signal: opts.signal }));
    return this.mapStreamErrors(opened.stream);
  }

  async stat(key: string): Promise<StoredObjectInfo | null> {
    return this.mapped(this.driver.stat(this.at(key)));
  }

  async delete(key: string): Promise<void> {
    return this.mapped(this.driver.delete(this.at(key)));
  }

  async deletePrefix(prefix: string): Promise<void> {
    // As a folder: "exports/abc" removes "exports/abc/x" and not "exports/abcd/x".
    const folder = { ...this.at(prefix.replace(/\/+$/, '')), isFolder: true };
    return this.mapped(this.driver.deleteFolder({ ...folder, key: `${folder.key}/` }));
  }

  close(): void {
    this.driver.close();
  }

  /** `work`, its failure as users of the service read it (see mapError). */
  private mapped<T>(work: Promise<T>): Promise<T> {
    return work.catch((err: unknown) => {
      throw this.mapError(err);
    });
  }

  /** `source` failing as a call fails (see mapError): a store that goes quiet mid-read is the same 503. */
  private mapStreamErrors(source: Readable): Readable {
    const out = new PassThrough({ highWaterMark: source.readableHighWaterMark });
    source.on('error', (err) => out.destroy(this.mapError(err) as Error));
    out.on('close', () => {
      if (!source.readableEnded) source.destroy();
    });
    return source.pipe(out);
  }

  /** The location of a storage key: its checked segments under the place's root folder. */
  private at(key: string): ParsedLocation {
    return childLocation(this.root, keySegments(key).join('/'));
  }

  /**
   * The place's errors as a user of the service reads them: a missing object is `not_found`; any
   * other failure of the store (silence, refusal, access denied) is the operator's to fix, so it is
   * logged with its detail and answered as a 503 that names no endpoint.
   */
  private mapError(err: unknown): unknown {
    if (err instanceof LocationNotFoundError) return new NotFoundError('The file does not exist.');
    if (err instanceof LocationUnavailableError || err instanceof LocationAccessDeniedError || err instanceof InvalidLocationError) {
      const quiet = OutboundTimeoutError.find(err) !== undefined;
      this.logger?.warn({ err: err.message }, quiet ? 'the storage bucket did not answer in time' : 'the service file storage failed');
      const message = quiet
        ? "The service's file storage did not answer in time; please try again later."
        : "The service's file storage cannot be used right now; please try again later.";
      return Object.assign(new ServiceUnavailableError(5, message), { cause: err });
    }
    return err;
  }
}

function checkRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new RangeError(`Invalid byte range ${start}-${end ?? ''}.`);
  }
}
