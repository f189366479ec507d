/**
 * The location layer: every place a byte can live. A user's export destination or import source
 * comes through `resolveLocation()`, which checks a URL and its connection options and returns the
 * driver for it; `writeTarget()` and `readSources()` add the folder rules (a URL ending in '/' is a
 * folder: an export gets the generated file name in it, an import reads every object under it in
 * name order). The service's own storage is one more place on the same drivers (`ownStoragePlace`,
 * used by src/storage/).
 */
import type { LocationsConfig } from '../config.js';
import { InvalidLocationError, LocationNotFoundError } from '../errors.js';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { OutboundGuard } from '../net/outbound-guard.js';
import { parseConnection } from './connection-options.js';
import { FileLocationDriver } from './file.driver.js';
import {
  childLocation,
  type ListedObject,
  type LocationDriver,
  type ParsedLocation,
  type StoreDriver,
  type WriteOptions,
} from './location.driver.js';
import { parseLocationUrl } from './location-url.js';
import { placeOf } from './places.js';
import { S3LocationDriver, type S3Connection, type S3DriverOptions } from './s3.driver.js';
import type { DriverContext } from './store-errors.js';

export type {
  ByteRange,
  ListedObject,
  LocationDriver,
  OpenedRead,
  OpenedWrite,
  ParsedLocation,
  StoredObjectInfo,
  StoreDriver,
} from './location.driver.js';
export { childLocation } from './location.driver.js';
export { optionNames, parseConnection, type LocationScheme } from './connection-options.js';
export { parseLocationUrl } from './location-url.js';

/** What resolving needs: the settings and one guard per process (it holds the allow-list); built once in main.ts. */
export interface LocationContext extends DriverContext {
  /** Test and bench knobs for the S3 driver (part size); production leaves it unset. */
  s3?: S3DriverOptions;
}

export function createLocationContext(config: LocationsConfig, logger?: Logger): LocationContext {
  return {
    config,
    guard: new OutboundGuard({ allowHosts: config.outboundAllowHosts, idleTimeoutMs: config.outboundTimeoutMs }),
    ...(logger ? { logger } : {}),
  };
}

export type LocationPurpose = 'read' | 'write';

export interface ResolvedLocation {
  location: ParsedLocation;
  driver: LocationDriver;
}

/**
 * Checks `url` and `connection` for `purpose` and returns the driver. Throws `invalid_parameter`
 * errors naming `parameter` (e.g. `destination`, `source`, `connection.secret_key`). No request is
 * made here; the guard checks addresses when a driver connects.
 */
export function resolveLocation(
  url: string,
  connection: unknown,
  ctx: LocationContext,
  purpose: LocationPurpose,
  parameter = purpose === 'write' ? 'destination' : 'source',
): ResolvedLocation {
  const location = parseLocationUrl(url, parameter);
  const checked = parseConnection(location.scheme, connection);
  return { location, driver: placeOf(location.scheme).open({ location, connection: checked, ctx, purpose, parameter }) };
}

/**
 * The service's own storage as a place: the STORAGE_URL bucket when set, else the STORAGE_DIR
 * folder (made on first use). `location` is its root folder; keys go below it.
 */
export function ownStoragePlace(
  config: Pick<Config, 'storageDir' | 'storageS3'>,
  ctx: LocationContext,
): { driver: StoreDriver; location: ParsedLocation } {
  const s3 = config.storageS3;
  if (!s3) {
    // Built, not parsed: the folder's name is the operator's and may hold any character.
    const key = `${resolve(config.storageDir).slice(1)}/`.replace(/\/+$/, '/');
    const location: ParsedLocation = { scheme: 'file', container: '', key, isFolder: true, href: `file:///${key}` };
    return { location, driver: new FileLocationDriver(config.storageDir, 'STORAGE_DIR', true) };
  }
  const location: ParsedLocation = {
    scheme: 's3',
    container: s3.bucket,
    key: s3.prefix,
    isFolder: true,
    href: `s3://${s3.bucket}/${s3.prefix}`,
  };
  const connection: S3Connection = { region: s3.region };
  if (s3.endpoint) connection.endpoint_url = s3.endpoint;
  // AWS itself takes virtual-hosted requests; MinIO and most self-hosted stores have no wildcard DNS for them.
  else connection.virtual_hosted_style = true;
  if (s3.accessKeyId && s3.secretAccessKey) {
    connection.access_key_id = s3.accessKeyId;
    connection.secret_key = s3.secretAccessKey;
  }
  return { location, driver: new S3LocationDriver(connection, ctx, { ...ctx.s3, ownStorage: true }) };
}

/**
 * Writes `body` to one object and resolves once it is complete. On failure the object is abandoned
 * and `body` destroyed; the error is the source's own, or the store's (or its deadline's) when the
 * pipe only saw the store stop.
 */
export async function writeObject(
  driver: LocationDriver,
  location: ParsedLocation,
  body: Readable,
  opts: WriteOptions = {},
): Promise<{ url: string; size: number }> {
  let w: ReturnType<LocationDriver['openWrite']>;
  try {
    w = driver.openWrite(location, opts);
  } catch (err) {
    // Nothing will read the body: end it, or whatever feeds it (a COPY holding a pooled connection) waits forever.
    body.destroy();
    throw err;
  }
  try {
    await pipeline(body, w.stream);
  } catch (err) {
    w.stream.destroy(err as Error);
    const stored = await w.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    body.destroy();
    throw stored !== undefined && isEcho(err) ? stored : err;
  }
  return await w.done;
}

/** The pipe's report of the store (or a stop) tearing the stream down, which says less than the store's own error. */
function isEcho(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  return e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.name === 'AbortError';
}

/** Where an export writes: the location itself, or `fileName` inside it when it is a folder. */
export function writeTarget(location: ParsedLocation, fileName: string): ParsedLocation {
  if (!location.isFolder) return location;
  if (!fileName || fileName.includes('/') || fileName === '.' || fileName === '..')
    throw new Error(`writeTarget: "${fileName}" is not a file name`);
  return childLocation(location, fileName);
}

/** An import of a folder is one all-or-nothing job; past this many files it should be split. */
export const MAX_FOLDER_OBJECTS = 10_000;

/**
 * The objects an import reads, in name order: the one object named, or every object under a
 * folder. A folder with nothing in it is a LocationNotFoundError, as a missing object is.
 * The listing (names, not data) is gathered and sorted here, by UTF-8 bytes as S3 sorts, because
 * not every S3-compatible store lists in that order.
 */
export async function* readSources(resolved: ResolvedLocation, signal?: AbortSignal): AsyncIterable<ListedObject> {
  const { location, driver } = resolved;
  if (!location.isFolder) {
    yield { location, name: location.key.split('/').pop() ?? '', size: -1 };
    return;
  }
  const all: ListedObject[] = [];
  for await (const o of driver.list(location, { signal })) {
    if (all.length >= MAX_FOLDER_OBJECTS) {
      throw new InvalidLocationError('source', `${location.href} holds more than ${MAX_FOLDER_OBJECTS} files; import a narrower folder.`);
    }
    all.push(o);
  }
  if (all.length === 0) throw new LocationNotFoundError(location.href);
  all.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  yield* all;
}
