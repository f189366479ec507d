/**
 * One driver per place a byte can live (S3, GCS, Azure Blob, HTTP, local folders) behind one small
 * interface: streams in, streams out, and a listing in name order. Users' destinations and sources
 * use it, and so does the service's own storage (STORAGE_DIR, STORAGE_URL: src/storage/), which is
 * one configured place on the same drivers. Adding a place is one file and one line in `places.ts`.
 * Drivers never hold a whole object in memory: writes go out in bounded parts, reads come in as the
 * consumer pulls.
 */
import type { Readable, Writable } from 'node:stream';
import type { LocationScheme } from './places.js';

/** A location URL taken apart. `container` is the bucket or container ('' for file and http). */
export interface ParsedLocation {
  scheme: LocationScheme;
  container: string;
  /** The object key or path below the container, without a leading '/'; '' for the container's root. */
  key: string;
  /** The URL ends in '/' (or names a container's root): a folder, not one object. */
  isFolder: boolean;
  /** The URL as it may be shown and stored: normalised, without user info, query or fragment. */
  href: string;
  /**
   * http(s) only: the URL to fetch, query included. A presigned URL's query is a credential, so this
   * travels sealed like the connection and is never shown; `href` is what people see.
   */
  requestUrl?: string;
}

export interface ListedObject {
  location: ParsedLocation;
  /** The object's name relative to the listed folder. */
  name: string;
  size: number;
}

export interface OpenedRead {
  stream: Readable;
  /** Bytes, when the store says. */
  size?: number;
  /** The object's file name (the last part of its key). */
  name: string;
}

export interface OpenedWrite {
  /** Write the bytes here and end it; destroy it with an error to abandon the object. */
  stream: Writable;
  /** Settles once the object is complete and visible (or failed, leaving nothing behind). */
  done: Promise<{ url: string; size: number }>;
}

/** How a caller stops a transfer early: the job's signal (a cancel, a shutdown). */
export interface TransferOptions {
  signal?: AbortSignal | undefined;
}

export interface WriteOptions extends TransferOptions {
  contentType?: string;
}

/** A byte range, both ends inclusive, as in an HTTP `Range: bytes=start-end` header. */
export interface ByteRange {
  start: number;
  /** Inclusive; omitted means "to the end of the file". */
  end?: number;
}

export interface RangeReadOptions extends TransferOptions {
  range?: ByteRange | undefined;
}

export interface StoredObjectInfo {
  size: number;
  mtime: Date;
}

/**
 * Every transfer is bounded (src/net/outbound-deadline.ts): a store silent for OUTBOUND_TIMEOUT_MS,
 * or one read, write or listing past OUTBOUND_MAX_DURATION_MS, fails it with a
 * LocationUnavailableError naming the host. When `signal` fires, the transfer stops at once: a
 * pending call rejects, the read stream is destroyed, `done` rejects, and its sockets are closed.
 */
export interface LocationDriver {
  readonly scheme: LocationScheme;
  /** Opens one object for reading; LocationNotFoundError when there is none. */
  openRead(location: ParsedLocation, opts?: TransferOptions): Promise<OpenedRead>;
  /** Every object under a folder location, in name order (paged underneath). */
  list(folder: ParsedLocation, opts?: TransferOptions): AsyncIterable<ListedObject>;
  /** Starts writing one object; it appears only when `done` resolves. */
  openWrite(location: ParsedLocation, opts?: WriteOptions): OpenedWrite;
  /** Frees sockets and clients (once a stopped upload has removed its parts, at most a few timeouts later). */
  close(): void;
}

/**
 * A driver that can also hold the service's own files (file and s3 today): a download serves byte
 * ranges, and job folders are looked at and removed. Another driver becomes eligible for
 * STORAGE_URL by adding these four calls.
 */
export interface StoreDriver extends LocationDriver {
  openRead(location: ParsedLocation, opts?: RangeReadOptions): Promise<OpenedRead>;
  /** Size and modification time, or `null` when there is no such object. */
  stat(location: ParsedLocation): Promise<StoredObjectInfo | null>;
  /** Removes the object; a missing one is not an error. */
  delete(location: ParsedLocation): Promise<void>;
  /** Removes every object under a folder location (`a/b/` removes `a/b/x`, not `a/bc/x`). */
  deleteFolder(folder: ParsedLocation): Promise<void>;
  /** Adopts a local file by moving it, where the place is on this disk; without it, the file is streamed in. */
  moveIn?(localPath: string, location: ParsedLocation): Promise<{ size: number }>;
}

/** The object `name` inside a folder location (a generated export file name, a listed object). */
export function childLocation(folder: ParsedLocation, name: string): ParsedLocation {
  if (!folder.isFolder) throw new Error('childLocation: not a folder');
  const key = folder.key + name;
  const href = folder.scheme === 'file' ? `file:///${encodePath(key)}` : `${folder.scheme}://${folder.container}/${encodePath(key)}`;
  return { ...folder, key, isFolder: false, href };
}

/** The last segment of a key: the file's name. */
export function baseName(key: string): string {
  const parts = key.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? '';
}

export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
