/**
 * Local files, only inside one root folder: EXPORT_DIR for writes, IMPORT_DIR for reads (unset
 * refuses file:// altogether), STORAGE_DIR for the service's own files. Paths are normalised, `..` cannot leave the root, and symlinks are
 * resolved with realpath before the check, so a link inside the root that points outside is
 * refused too. Writes go to a temporary file beside the target and are renamed into place.
 *
 * A caller's signal destroys the streams; local files need no other deadline. Out of scope: a FIFO
 * or a hung network mount (NFS), whose reads block a libuv worker thread that no signal or timer can
 * interrupt; the root folders are the operator's, and should not hold either.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, realpath, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { addAbortSignal, PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidLocationError, LocationNotFoundError } from '../errors.js';
import type {
  ListedObject,
  OpenedRead,
  OpenedWrite,
  ParsedLocation,
  RangeReadOptions,
  StoredObjectInfo,
  StoreDriver,
  TransferOptions,
  WriteOptions,
} from './location.driver.js';
import { baseName, childLocation } from './location.driver.js';
import { definePlace, type Place } from './place.js';

/** A user's file:// location: inside EXPORT_DIR when written, IMPORT_DIR when read; off when that is not set. */
export const filePlace: Place<'file'> = definePlace({
  schemes: ['file'],
  url: 'path',
  options: {},
  open: ({ ctx, purpose, parameter }) => {
    const root = purpose === 'write' ? ctx.config.exportDir : ctx.config.importDir;
    if (!root) {
      const v = purpose === 'write' ? 'EXPORT_DIR' : 'IMPORT_DIR';
      throw new InvalidLocationError(parameter, `${parameter}: file:// locations are turned off on this server (${v} is not set).`);
    }
    return new FileLocationDriver(root, parameter);
  },
});

export class FileLocationDriver implements StoreDriver {
  readonly scheme = 'file' as const;

  /**
   * `root`: EXPORT_DIR or IMPORT_DIR, by the direction the caller resolved the location for, or
   * STORAGE_DIR. `makeRoot`: a missing root is made on first use (the service's own folder) instead
   * of refused (a user's location).
   */
  constructor(
    private readonly root: string,
    private readonly parameter: string,
    private readonly makeRoot = false,
  ) {}

  async openRead(location: ParsedLocation, opts: RangeReadOptions = {}): Promise<OpenedRead> {
    const path = await this.insideRoot(location, true);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch {
      throw new LocationNotFoundError(location.href);
    }
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw new LocationNotFoundError(location.href);
    }
    const { range } = opts;
    // The descriptor keeps a file deleted after this point whole until the stream ends.
    const stream = handle.createReadStream(range ? { start: range.start, end: range.end ?? Number.POSITIVE_INFINITY } : {});
    if (opts.signal) addAbortSignal(opts.signal, stream);
    return { stream, size: info.size, name: baseName(location.key) };
  }

  async *list(folder: ParsedLocation, opts: TransferOptions = {}): AsyncIterable<ListedObject> {
    const dir = await this.insideRoot(folder, true);
    let entries: string[];
    try {
      entries = (await readdir(dir, { recursive: true })).map(String);
    } catch {
      throw new LocationNotFoundError(folder.href);
    }
    // Name order, as the object stores list: by code point of the relative path with '/' separators.
    const names = entries.map((e) => e.split(sep).join('/')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      opts.signal?.throwIfAborted();
      const child = childLocation(folder, name);
      let path: string;
      try {
        path = await this.insideRoot(child, true);
      } catch {
        continue; // A link that leads out of the root is not part of the folder.
      }
      const info = await stat(path).catch(() => undefined);
      if (info?.isFile()) yield { location: child, name, size: info.size };
    }
  }

  openWrite(location: ParsedLocation, opts: WriteOptions = {}): OpenedWrite {
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    // A stop fails the copy below, which removes the temporary file.
    if (opts.signal) addAbortSignal(opts.signal, body);
    const done = (async () => {
      if (location.isFolder)
        throw new InvalidLocationError(this.parameter, `${this.parameter} names a folder; a file name is needed to write.`);
      const target = await this.insideRoot(location, false);
      await mkdir(dirname(target), { recursive: true });
      // mkdir may have followed a link made meanwhile; check the real folder again.
      await this.insideRoot(location, false);
      const tmp = tempPathBeside(target);
      const out = createWriteStream(tmp, { flags: 'wx' });
      try {
        await pipeline(body, out);
        await rename(tmp, target);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      return { url: location.href, size: out.bytesWritten };
    })().catch((err: unknown) => {
      body.destroy();
      throw err;
    });
    done.catch(() => undefined);
    return { stream: body, done };
  }

  async stat(location: ParsedLocation): Promise<StoredObjectInfo | null> {
    const path = await this.existing(location);
    const info = path === undefined ? undefined : await stat(path).catch(() => undefined);
    return info?.isFile() ? { size: info.size, mtime: info.mtime } : null;
  }

  async delete(location: ParsedLocation): Promise<void> {
    const path = await this.existing(location);
    if (path !== undefined) await unlink(path).catch((err: NodeJS.ErrnoException) => ignoreMissing(err));
  }

  async deleteFolder(folder: ParsedLocation): Promise<void> {
    const path = await this.existing(folder);
    if (path !== undefined) await rm(path, { recursive: true, force: true });
  }

  /** Renames the file into place; across filesystems, copies it beside the target first, so the target never shows a part. */
  async moveIn(localPath: string, location: ParsedLocation): Promise<{ size: number }> {
    const target = await this.insideRoot(location, false);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(localPath, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      const tmp = tempPathBeside(target);
      try {
        await copyFile(localPath, tmp);
        await rename(tmp, target);
      } catch (copyErr) {
        await unlink(tmp).catch(() => undefined);
        throw copyErr;
      }
      await unlink(localPath).catch(() => undefined);
    }
    return { size: (await stat(target)).size };
  }

  close(): void {}

  /** The real path of an existing location inside the root, or undefined when there is nothing there. */
  private async existing(location: ParsedLocation): Promise<string | undefined> {
    try {
      return await this.insideRoot(location, true);
    } catch (err) {
      if (err instanceof LocationNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * The request path's check, before a task is queued: the location lies inside the root (a read
   * must also exist). The same check runs again when the job reads or writes.
   */
  async check(location: ParsedLocation, mustExist: boolean): Promise<void> {
    await this.insideRoot(location, mustExist);
  }

  /**
   * The real path of `location`, refused unless it lies in the root. `mustExist`: reads resolve the
   * whole path; writes resolve the deepest folder that exists and append the rest.
   */
  private async insideRoot(location: ParsedLocation, mustExist: boolean): Promise<string> {
    if (this.makeRoot) await mkdir(this.root, { recursive: true });
    const root = await realpath(this.root).catch(() => {
      throw new InvalidLocationError(this.parameter, `${this.parameter}: the server's folder for file:// locations does not exist.`);
    });
    const wanted = resolve('/', location.key);
    let real: string;
    if (mustExist) {
      real = await realpath(wanted).catch(() => {
        throw new LocationNotFoundError(location.href);
      });
    } else {
      let existing = location.isFolder ? wanted : dirname(wanted);
      const rest: string[] = location.isFolder ? [] : [baseName(wanted)];
      for (;;) {
        try {
          real = join(await realpath(existing), ...rest);
          break;
        } catch {
          if (existing === dirname(existing)) throw new LocationNotFoundError(location.href);
          rest.unshift(baseName(existing));
          existing = dirname(existing);
        }
      }
    }
    const rel = relative(root, real);
    if (rel === '' ? !location.isFolder : rel.startsWith('..') || rel.startsWith(sep) || resolve(root, rel) !== real) {
      throw new InvalidLocationError(this.parameter, `${this.parameter} must lie inside the server's folder for file:// locations.`);
    }
    return real;
  }
}

/**
 * A fresh hidden name beside `target`, unique per writer, so two writers of one path never share a
 * temp file and the last rename wins whole; the name is cut so the temp name stays under 255 bytes.
 */
function tempPathBeside(target: string): string {
  return join(dirname(target), `.${baseName(target).slice(0, 180)}.${randomUUID()}.tmp`);
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
}
