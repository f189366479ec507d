/**
 * Where a bundle import reads from: an upload or `content` (kept in the service's storage, like any
 * import's upload), a `file://` URL under IMPORT_DIR, or a location (`source` + `connection`). The
 * request checks the URL and options; the worker opens them. Credentials travel sealed (never in
 * BullMQ data, never in clear in the job row), bound to the job's id.
 */
import type { Readable } from 'node:stream';
import type { SealedLocation, SealedSecrets } from '../../../crypto/sealed-secrets.js';
import { InvalidLocationError, InvalidParameterError } from '../../../errors.js';
import { resolveLocation, type LocationContext } from '../../../locations/index.js';
import type { ServiceStorage } from '../../../storage/index.js';

export type BundleOrigin = 'upload' | 'content' | 'file' | 'location';

/** How the job finds its bundle again (stored in the job's params). */
export interface BundleSourceParams {
  origin: BundleOrigin;
  /** Shown to people: the upload's name, or the URL without credentials. */
  source_name: string | null;
  size: number | null;
  /** `file` and `location`: `{ url, connection }`, sealed with the job's id as context. */
  sealed?: string;
}

export class BundleSources {
  constructor(
    private readonly storage: ServiceStorage,
    private readonly locations: LocationContext,
    private readonly secrets: SealedSecrets,
  ) {}

  /**
   * Checks a `file://` URL (parameter `file`) or a location (`source`, `connection`) and seals it
   * for the job. Nothing is fetched here.
   */
  async seal(
    jobId: string,
    parameter: 'file' | 'source',
    url: string,
    connection: Record<string, unknown> | undefined,
  ): Promise<BundleSourceParams> {
    if (parameter === 'file' && !/^file:\/\//i.test(url)) {
      throw new InvalidParameterError(
        'file',
        '"file" takes a file:///... URL under IMPORT_DIR; use "source" for object stores and http(s).',
      );
    }
    const { location, driver } = resolveLocation(url, connection, this.locations, 'read', parameter);
    if (location.isFolder)
      throw new InvalidLocationError(parameter, `${parameter}: a bundle is one file, not a folder (${location.href}).`);
    if (location.scheme === 'file') {
      // A local file is cheap to check now: outside IMPORT_DIR (by .. or a link) or missing is the request's mistake.
      const opened = await driver.openRead(location);
      opened.stream.destroy();
    }
    driver.close();
    const sealed: SealedLocation = { url };
    if (connection !== undefined) sealed.connection = connection;
    return {
      origin: parameter === 'file' ? 'file' : 'location',
      source_name: location.href,
      size: null,
      sealed: this.secrets.sealLocation(sealed, jobId),
    };
  }

  /** The bundle's bytes and their size when known. `signal` (the job's) stops the read at once. */
  async open(
    jobId: string,
    params: BundleSourceParams,
    uploadKey: string | null,
    signal?: AbortSignal,
  ): Promise<{ stream: Readable; size: number | null }> {
    if (params.origin === 'upload' || params.origin === 'content') {
      if (!uploadKey) throw new InvalidParameterError('file', 'The uploaded bundle is no longer there.');
      const info = await this.storage.stat(uploadKey);
      return { stream: await this.storage.get(uploadKey, undefined, { signal }), size: info?.size ?? params.size };
    }
    if (!params.sealed) throw new InvalidParameterError('source', "The bundle's location was not recorded.");
    const s = this.secrets.openLocation(params.sealed, jobId);
    const parameter = params.origin === 'file' ? 'file' : 'source';
    const { location, driver } = resolveLocation(s.url, s.connection, this.locations, 'read', parameter);
    let opened: Awaited<ReturnType<typeof driver.openRead>>;
    try {
      opened = await driver.openRead(location, { signal });
    } catch (err) {
      driver.close();
      throw err;
    }
    // The driver's sockets go when the bytes have been read (or the read was abandoned).
    opened.stream.once('close', () => driver.close());
    return { stream: opened.stream, size: opened.size ?? null };
  }
}
