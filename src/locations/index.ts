/**
 * The location layer: where an export is written and where an import is read from, beside the
 * service's own storage. `resolveLocation()` checks a URL and its connection options and returns
 * the driver for it; `writeTarget()` and `readSources()` add the folder rules (a URL ending in '/'
 * is a folder: an export gets the generated file name in it, an import reads every object under it
 * in name order).
 */
import type { LocationsConfig } from '../config.js';
import { InvalidLocationError, LocationNotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { OutboundGuard } from '../net/outbound-guard.js';
import { AzblobLocationDriver } from './azblob.driver.js';
import { parseConnection, type AzblobConnection, type GcsConnection, type S3Connection } from './connection-options.js';
import { FileLocationDriver } from './file.driver.js';
import { GcsLocationDriver } from './gcs.driver.js';
import { HttpLocationDriver } from './http.driver.js';
import type { ListedObject, LocationDriver, ParsedLocation } from './location.driver.js';
import { childLocation, parseLocationUrl } from './location-url.js';
import { S3LocationDriver, type S3DriverOptions } from './s3.driver.js';
import type { DriverContext } from './store-errors.js';

export type { ListedObject, LocationDriver, OpenedRead, OpenedWrite, ParsedLocation } from './location.driver.js';
export { CONNECTION_OPTIONS, parseConnection, type LocationScheme } from './connection-options.js';
export { parseLocationUrl } from './location-url.js';

/** What resolving needs: the settings and one guard per process (it holds the allow-list). */
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
  const options = parseConnection(location.scheme, connection);
  switch (location.scheme) {
    case 's3':
      return { location, driver: new S3LocationDriver(options as S3Connection, ctx, ctx.s3) };
    case 'gcs':
      return { location, driver: new GcsLocationDriver(options as GcsConnection, ctx) };
    case 'azblob':
      return { location, driver: new AzblobLocationDriver(options as AzblobConnection, ctx) };
    case 'http':
    case 'https':
      if (purpose === 'write') throw new InvalidLocationError(parameter, `${parameter}: an http(s) URL can only be an import source.`);
      return { location, driver: new HttpLocationDriver(location.scheme, ctx) };
    case 'file': {
      const root = purpose === 'write' ? ctx.config.exportDir : ctx.config.importDir;
      if (!root) {
        const v = purpose === 'write' ? 'EXPORT_DIR' : 'IMPORT_DIR';
        throw new InvalidLocationError(parameter, `${parameter}: file:// locations are turned off on this server (${v} is not set).`);
      }
      return { location, driver: new FileLocationDriver(root, parameter) };
    }
  }
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
