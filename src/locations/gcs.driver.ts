/**
 * Google Cloud Storage through @google-cloud/storage. Writes are resumable uploads streamed in one
 * request (no chunkSize, so nothing is buffered per chunk); reads stream the media download;
 * listings page through objects.list, which returns names in lexicographic order.
 *
 * Every request gets the guard's agent through a request interceptor (the library applies them to
 * its JSON calls and to its resumable uploads), and a custom `gcs_base_url` is checked before use.
 */
import { Storage, type File, type StorageOptions } from '@google-cloud/storage';
import type http from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidLocationError, LocationAccessDeniedError, LocationNotFoundError } from '../errors.js';
import type { GcsConnection } from './connection-options.js';
import type { ListedObject, LocationDriver, OpenedRead, OpenedWrite, ParsedLocation, WriteOptions } from './location.driver.js';
import { baseName, childLocation } from './location-url.js';
import { checkEndpoint } from './s3.driver.js';
import { mapStoreError, type DriverContext } from './store-errors.js';

const PAGE_SIZE = 1000;
const GCS_DEFAULT = 'https://storage.googleapis.com';

export class GcsLocationDriver implements LocationDriver {
  readonly scheme = 'gcs' as const;
  private readonly storage: Storage;
  private readonly agents: http.Agent[] = [];
  private readonly endpoint: URL | undefined;

  constructor(
    connection: GcsConnection,
    private readonly ctx: DriverContext,
  ) {
    const base = connection.gcs_base_url;
    this.endpoint = base === undefined ? undefined : checkEndpoint(base, 'connection.gcs_base_url');
    const custom = base !== undefined && this.endpoint?.hostname !== 'storage.googleapis.com';
    const protocol = this.endpoint?.protocol === 'http:' ? 'http:' : 'https:';
    const agent = ctx.guard.agent(protocol, { keepAlive: true, maxSockets: 8 });
    this.agents.push(agent);
    const options: StorageOptions = {
      projectId: 'tableport',
      retryOptions: { maxRetries: 2 },
    };
    Object.assign(options, authFor(connection, ctx, base?.replace(/\/+$/, ''), custom));
    this.storage = new Storage(options);
    this.storage.interceptors.push({
      request: (reqOpts) => {
        (reqOpts as { agent?: http.Agent }).agent = agent;
        return reqOpts as unknown as ReturnType<NonNullable<Storage['interceptors'][number]['request']>>;
      },
    });
  }

  async openRead(location: ParsedLocation): Promise<OpenedRead> {
    await this.checkEndpoint();
    const file = this.file(location);
    let size: number | undefined;
    try {
      const [meta] = await file.getMetadata();
      size = meta.size === undefined ? undefined : Number(meta.size);
    } catch (err) {
      throw this.mapError(err, location);
    }
    const source = file.createReadStream({ validation: false });
    const out = new Transform({ transform: (c: Buffer, _e, cb) => cb(null, c) });
    pipeline(source, out).catch((err: unknown) => out.destroy(this.mapError(err, location)));
    return { stream: out, size, name: baseName(location.key) };
  }

  async *list(folder: ParsedLocation): AsyncIterable<ListedObject> {
    await this.checkEndpoint();
    let pageToken: string | undefined;
    do {
      let files: File[];
      let next: { pageToken?: string } | null | undefined;
      try {
        [files, next] = await this.storage
          .bucket(folder.container)
          .getFiles({ prefix: folder.key, autoPaginate: false, maxResults: PAGE_SIZE, pageToken });
      } catch (err) {
        throw this.mapError(err, folder);
      }
      for (const f of files) {
        if (f.name.endsWith('/')) continue;
        const name = f.name.slice(folder.key.length);
        yield { location: childLocation(folder, name), name, size: Number(f.metadata.size ?? 0) };
      }
      pageToken = next?.pageToken;
    } while (pageToken);
  }

  openWrite(location: ParsedLocation, opts: WriteOptions = {}): OpenedWrite {
    let size = 0;
    const body = new Transform({
      highWaterMark: 1024 * 1024,
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const done = (async () => {
      await this.checkEndpoint();
      const sink = this.file(location).createWriteStream({
        resumable: true,
        validation: false,
        metadata: opts.contentType ? { contentType: opts.contentType } : undefined,
      });
      await pipeline(body, sink);
      return { url: location.href, size };
    })().catch((err: unknown) => {
      body.destroy();
      throw this.mapError(err, location);
    });
    done.catch(() => undefined);
    return { stream: body, done };
  }

  close(): void {
    for (const a of this.agents) a.destroy();
  }

  private file(location: ParsedLocation): File {
    return this.storage.bucket(location.container).file(location.key);
  }

  /** The library's token fetches do not take our agent; a custom endpoint is checked up front too. */
  private async checkEndpoint(): Promise<void> {
    if (this.endpoint) await this.ctx.guard.checkUrl(this.endpoint);
  }

  private mapError(err: unknown, location: ParsedLocation): Error {
    return mapStoreError(err, location.href, (e) => {
      const code = Number((e as { code?: unknown }).code);
      if (code === 404) return new LocationNotFoundError(location.href);
      if (code === 401 || code === 403) return new LocationAccessDeniedError(location.href, `HTTP ${code}`);
      if (/invalid_grant|invalid_client|private key|PEM|DECODER/i.test(e.message)) return new LocationAccessDeniedError(location.href, 'the service account key was refused');
      return undefined;
    });
  }
}

/**
 * How the client authenticates. The library skips auth for an endpoint other than its default, so
 * "anonymous" is an endpoint it does not recognise as the default (a trailing '/', which it strips):
 * otherwise it would look for ambient credentials, the metadata server included.
 */
function authFor(c: GcsConnection, ctx: DriverContext, base: string | undefined, customEndpoint: boolean): Partial<StorageOptions> {
  const anonymous = { apiEndpoint: base ?? `${GCS_DEFAULT}/`, useAuthWithCustomEndpoint: false };
  if (c.disable_oauth === true) return anonymous;
  if (c.client_email !== undefined || c.private_key !== undefined) {
    if (!c.client_email || !c.private_key) throw new InvalidLocationError('connection', 'client_email and private_key go together: give both or neither.');
    // Keys pasted into SQL or JSON often carry "\n" as two characters.
    const privateKey = c.private_key.includes('\\n') ? c.private_key.replace(/\\n/g, '\n') : c.private_key;
    return { ...(base ? { apiEndpoint: base } : {}), credentials: { client_email: c.client_email, private_key: privateKey }, useAuthWithCustomEndpoint: true };
  }
  // The server's own service account authenticates only to Google itself, never to a user's endpoint.
  if (!customEndpoint && ctx.config.gcs.credentialsFile) return { keyFilename: ctx.config.gcs.credentialsFile };
  return anonymous;
}
