/**
 * Export destinations and import sources of REST and SQL tasks, around the location layer:
 * the request path checks the URL and its connection (a bad one is a 400 before anything is
 * queued) and seals `{url, connection}` with the job id for the job row; the worker opens the seal
 * again, writes one object or reads every object of a folder, and closes the driver.
 *
 * Only `location.href` (no credentials, no presigned query) is ever stored in clear or shown.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import type { SealedLocation, SealedSecrets } from '../crypto/sealed-secrets.js';
import { FileLocationDriver } from './file.driver.js';
import { FileTooLargeError, LocationNotFoundError } from '../errors.js';
import { baseName } from './location.driver.js';
import {
  parseConnection,
  readSources,
  resolveLocation,
  writeObject,
  writeTarget,
  type LocationContext,
  type LocationPurpose,
  type ListedObject,
  type ParsedLocation,
} from './index.js';

/** What a job row keeps of a location: the URL people may see, and the sealed URL and connection. */
export interface TaskLocation {
  /** For a destination folder, the object the export writes (the generated file name inside it). */
  href: string;
  sealed: string;
}

/** The content types an export's object is written with. */
const CONTENT_TYPES: Record<string, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  sql: 'application/sql; charset=utf-8',
  gzip: 'application/gzip',
};

/** One object of an import's source, downloaded to a local file for the import to read. */
export interface FetchedSource {
  path: string;
  /** The object's name (relative to the source folder), for messages. */
  name: string;
  href: string;
  size: number;
}

export class TaskLocations {
  constructor(
    readonly ctx: LocationContext,
    /** The process's one sealer of credentials at rest. */
    readonly secrets: SealedSecrets,
  ) {}

  /**
   * Request path: checks `url` and `connection` for `purpose` and seals them for `jobId`.
   * `fileName`: for a destination folder, the generated name the export will write in it.
   */
  async prepare(
    url: string,
    connection: Record<string, unknown> | undefined,
    purpose: LocationPurpose,
    jobId: string,
    fileName?: string,
  ): Promise<TaskLocation> {
    const { location, options } = await this.check(url, connection, purpose);
    const target = purpose === 'write' && fileName ? writeTarget(location, fileName) : location;
    const sealed: SealedLocation = { url: location.requestUrl ?? location.href, connection: options };
    return { href: target.href, sealed: this.secrets.sealLocation(sealed, jobId) };
  }

  /**
   * Request path: the first file of a source (the one object, or the first in name order under a
   * folder, passing over 0-byte objects as the import does), downloaded to a temp file for `use`
   * (schema inference), then removed. A folder of nothing but empty objects gives `use` the first.
   */
  async sampleFirst<T>(
    url: string,
    connection: Record<string, unknown> | undefined,
    maxBytes: number,
    use: (path: string) => Promise<T>,
  ): Promise<T> {
    const { location, options } = await this.check(url, connection, 'read');
    const dir = await mkdtemp(join(tmpdir(), 'tableport-sample-'));
    const resolved = resolveLocation(location.requestUrl ?? location.href, options, this.ctx, 'read');
    try {
      let firstEmpty: ListedObject | undefined;
      for await (const obj of readSources(resolved)) {
        if (obj.size === 0) {
          firstEmpty ??= obj;
          continue;
        }
        const path = join(dir, 'first');
        await this.download(resolved, obj.location, path, maxBytes, () => 0);
        return await use(path);
      }
      if (firstEmpty) {
        const path = join(dir, 'first');
        await this.download(resolved, firstEmpty.location, path, maxBytes, () => 0);
        return await use(path);
      }
      throw new LocationNotFoundError(location.href);
    } finally {
      resolved.driver.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * The request path's checks: the URL and options, a file:// path inside its folder, and the
   * addresses the user named. The guard checks every connection again when it is made (in the
   * worker); checking now makes a loopback, private or metadata address a 400 before queueing.
   */
  private async check(
    url: string,
    connection: Record<string, unknown> | undefined,
    purpose: LocationPurpose,
  ): Promise<{ location: ParsedLocation; options: Record<string, string | boolean> }> {
    const parameter = purpose === 'write' ? 'destination' : 'source';
    const { location, driver } = resolveLocation(url, connection, this.ctx, purpose, parameter);
    driver.close();
    if (driver instanceof FileLocationDriver) await driver.check(location, purpose === 'read');
    const options = parseConnection(location.scheme, connection);
    for (const u of userNamedEndpoints(location, options)) await this.ctx.guard.checkUrl(u);
    return { location, options };
  }

  /** One object to a local file; `counted` adds each chunk's size to a running total and returns it, for the cap. */
  private async download(
    resolved: ReturnType<typeof resolveLocation>,
    location: ParsedLocation,
    path: string,
    maxBytes: number,
    counted: (n: number) => number,
    signal?: AbortSignal,
  ): Promise<number> {
    const opened = await resolved.driver.openRead(location, { signal });
    let size = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        cb(Math.max(size, counted(chunk.length)) > maxBytes ? new FileTooLargeError(maxBytes) : null, chunk);
      },
    });
    try {
      await pipeline(opened.stream, cap, createWriteStream(path));
    } catch (err) {
      opened.stream.destroy();
      throw err;
    }
    return size;
  }

  /**
   * Worker: writes `body` to the job's destination (the generated file name inside a folder) and
   * resolves once the object is complete. On failure the object is abandoned and `body` destroyed.
   * `signal` (the job's) stops the write at once, however far it got.
   */
  async write(
    sealed: string,
    jobId: string,
    fileName: string,
    fileType: string,
    body: Readable,
    signal?: AbortSignal,
  ): Promise<{ url: string; size: number }> {
    const { location, driver } = this.resolve(sealed, jobId, 'write');
    try {
      return await writeObject(driver, writeTarget(location, fileName), body, {
        contentType: CONTENT_TYPES[fileType] ?? 'application/octet-stream',
        signal,
      });
    } finally {
      driver.close();
    }
  }

  /**
   * Worker: downloads the job's source (one object, or every object under a folder in name order)
   * into files under `dir`, at most `maxBytes` in all, and returns them in that order. The files
   * are the caller's to remove (removing `dir` does). Re-running replaces them. `signal` (the
   * job's) stops the listing or the download in progress at once.
   */
  async fetch(sealed: string, jobId: string, dir: string, maxBytes: number, signal?: AbortSignal): Promise<FetchedSource[]> {
    const resolved = this.resolve(sealed, jobId, 'read');
    const out: FetchedSource[] = [];
    let total = 0;
    try {
      await mkdir(dir, { recursive: true });
      for await (const obj of readSources(resolved, signal)) {
        const path = join(dir, `${String(out.length).padStart(5, '0')}-${randomUUID()}`);
        const size = await this.download(resolved, obj.location, path, maxBytes, (n) => (total += n), signal);
        out.push({ path, name: obj.name || baseName(obj.location.key), href: obj.location.href, size });
      }
      return out;
    } catch (err) {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    } finally {
      resolved.driver.close();
    }
  }

  private resolve(sealed: string, jobId: string, purpose: LocationPurpose): ReturnType<typeof resolveLocation> {
    const s = this.secrets.openLocation(sealed, jobId);
    return resolveLocation(s.url, s.connection, this.ctx, purpose);
  }
}

/**
 * The URLs a location will contact that the request chose: an http(s) source, or a custom
 * endpoint. The providers' own endpoints (AWS, Google, Azure) are public by construction.
 */
function userNamedEndpoints(location: ParsedLocation, options: Record<string, string | boolean>): URL[] {
  const urls: string[] = [];
  if (location.scheme === 'http' || location.scheme === 'https') urls.push(location.requestUrl ?? location.href);
  for (const k of ['endpoint_url', 'gcs_base_url'] as const) {
    const v = options[k];
    if (typeof v === 'string') urls.push(v);
  }
  // CnosDB's use_emulator means azurite on this very host.
  if (location.scheme === 'azblob' && options.use_emulator === true && options.endpoint_url === undefined)
    urls.push('http://127.0.0.1:10000/');
  return urls.map((u) => new URL(u));
}

export type { ParsedLocation };
