/**
 * Google Cloud Storage through @google-cloud/storage. Writes are resumable uploads streamed in one
 * request (no chunkSize, so nothing is buffered per chunk); reads stream the media download;
 * listings page through objects.list, which returns names in lexicographic order.
 *
 * Every request gets the guard's agent through a request interceptor (the library applies them to
 * its JSON calls and to its resumable uploads), and a custom `gcs_base_url` is checked before use.
 *
 * Deadlines (src/net/outbound-deadline.ts): uploads go through the guard's agent, whose sockets are
 * watched for silence. The JSON calls and downloads go through the library's own agent pool
 * (teeny-request ignores the interceptor's agent), so they are bounded otherwise: the library's
 * `timeout` up to the answer's headers, and the read stream's own silence timer after that.
 */
import { Storage, type File, type StorageOptions } from '@google-cloud/storage';
import type http from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidLocationError, LocationAccessDeniedError, LocationNotFoundError, LocationUnavailableError } from '../errors.js';
import type {
  ListedObject,
  LocationDriver,
  OpenedRead,
  OpenedWrite,
  ParsedLocation,
  TransferOptions,
  WriteOptions,
} from './location.driver.js';
import { baseName, childLocation } from './location.driver.js';
import { definePlace, type ConnectionOf, type Place } from './place.js';
import { Deadline, hostPort, OutboundTimeoutError, seconds } from '../net/outbound-deadline.js';
import { portOf } from '../net/outbound-guard.js';
import { checkEndpoint } from './s3.driver.js';
import { mapStoreError, type DriverContext } from './store-errors.js';

const PAGE_SIZE = 1000;
const GCS_OPTIONS = { gcs_base_url: 'text', disable_oauth: 'flag', client_email: 'text', private_key: 'text' } as const;
export type GcsConnection = ConnectionOf<typeof GCS_OPTIONS>;

export const gcsPlace: Place<'gcs'> = definePlace({
  schemes: ['gcs'],
  url: 'bucket',
  options: GCS_OPTIONS,
  open: ({ connection, ctx }) => new GcsLocationDriver(connection, ctx),
});

const GCS_DEFAULT = 'https://storage.googleapis.com';

export class GcsLocationDriver implements LocationDriver {
  readonly scheme = 'gcs' as const;
  private readonly agent: http.Agent;
  private readonly endpoint: URL | undefined;
  private readonly custom: boolean;
  private storage: Promise<Storage> | undefined;
  /** The store as timeouts name it: the endpoint's host:port. */
  private readonly host: string;

  constructor(
    private readonly connection: GcsConnection,
    private readonly ctx: DriverContext,
  ) {
    const base = connection.gcs_base_url;
    this.endpoint = base === undefined ? undefined : checkEndpoint(base, 'connection.gcs_base_url');
    this.custom = base !== undefined && this.endpoint?.hostname !== 'storage.googleapis.com';
    this.host = this.endpoint ? hostPort(this.endpoint.hostname, portOf(this.endpoint)) : 'storage.googleapis.com:443';
    this.agent = ctx.guard.agent(this.endpoint?.protocol === 'http:' ? 'http:' : 'https:', { keepAlive: true, maxSockets: 8 });
    // Checked now, so a bad option is an error of the request, not of the job.
    authFor(connection, ctx, undefined, this.custom);
  }

  /**
   * The client, made on first use once the endpoint has passed the guard. The library's uploads
   * take our agent (pinned); its JSON calls go through its own agent pool, so a plain-http custom
   * endpoint that is not allow-listed is pinned by putting the checked address in its URL. An https
   * one cannot be (the certificate names the host): it is checked before every operation instead.
   */
  private client(): Promise<Storage> {
    this.storage ??= (async () => {
      let base = this.endpoint?.toString().replace(/\/+$/, '');
      if (this.endpoint && this.custom) {
        const port = portOf(this.endpoint);
        const addresses = await this.ctx.guard.resolveChecked(this.endpoint.hostname, port);
        const first = addresses[0];
        if (this.endpoint.protocol === 'http:' && first && !this.ctx.guard.isAllowListed(this.endpoint.hostname, port)) {
          const pinned = new URL(this.endpoint);
          pinned.hostname = first.family === 6 ? `[${first.address}]` : first.address;
          base = pinned.toString().replace(/\/+$/, '');
        }
      }
      const storage = new Storage({
        projectId: 'tableport',
        // Three tries, each waiting at most OUTBOUND_TIMEOUT_MS for an answer.
        retryOptions: { maxRetries: 2 },
        timeout: this.ctx.config.outboundTimeoutMs,
        ...authFor(this.connection, this.ctx, base, this.custom),
      });
      const agent = this.agent;
      storage.interceptors.push({
        request: (reqOpts) => {
          (reqOpts as { agent?: http.Agent }).agent = agent;
          return reqOpts as unknown as ReturnType<NonNullable<Storage['interceptors'][number]['request']>>;
        },
      });
      return storage;
    })();
    // A refused endpoint stays refused, but a passing DNS failure should not stick.
    this.storage.catch(() => (this.storage = undefined));
    return this.storage;
  }

  async openRead(location: ParsedLocation, opts: TransferOptions = {}): Promise<OpenedRead> {
    const deadline = this.deadline(opts);
    let file: File;
    let size: number | undefined;
    try {
      file = await deadline.race(this.file(location));
      const [meta] = await deadline.race(file.getMetadata());
      size = meta.size === undefined ? undefined : Number(meta.size);
    } catch (err) {
      deadline.end();
      throw this.mapError(err, location);
    }
    const stream = deadline.stream(file.createReadStream({ validation: false }), {
      idleMs: this.ctx.config.outboundTimeoutMs,
      mapError: (err) => this.mapError(err, location),
    });
    return { stream, size, name: baseName(location.key) };
  }

  async *list(folder: ParsedLocation, opts: TransferOptions = {}): AsyncIterable<ListedObject> {
    const deadline = this.deadline(opts);
    try {
      let pageToken: string | undefined;
      do {
        let files: File[];
        let next: { pageToken?: string } | null | undefined;
        try {
          await deadline.race(this.checkEndpoint());
          const storage = await deadline.race(this.client());
          [files, next] = await deadline.race(
            storage.bucket(folder.container).getFiles({ prefix: folder.key, autoPaginate: false, maxResults: PAGE_SIZE, pageToken }),
          );
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
    } finally {
      deadline.end();
    }
  }

  openWrite(location: ParsedLocation, opts: WriteOptions = {}): OpenedWrite {
    const deadline = this.deadline(opts);
    let size = 0;
    const body = new Transform({
      highWaterMark: 1024 * 1024,
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        cb(null, chunk);
      },
    });
    // Stopping the body stops the upload: pipeline() destroys the upload stream, which aborts its request.
    const stop = () => body.destroy(deadline.reason);
    deadline.signal.addEventListener('abort', stop, { once: true });
    const done = deadline
      .race(
        (async () => {
          const sink = (await this.file(location)).createWriteStream({
            resumable: true,
            validation: false,
            metadata: opts.contentType ? { contentType: opts.contentType } : undefined,
          });
          await pipeline(body, sink);
          return { url: location.href, size };
        })(),
      )
      .catch((err: unknown) => {
        body.destroy();
        throw this.mapError(err, location);
      })
      .finally(() => {
        deadline.signal.removeEventListener('abort', stop);
        deadline.end();
      });
    done.catch(() => undefined);
    return { stream: body, done };
  }

  close(): void {
    this.agent.destroy();
  }

  private deadline(opts: TransferOptions): Deadline {
    return new Deadline(this.host, this.ctx.config.outboundMaxDurationMs, opts.signal);
  }

  private async file(location: ParsedLocation): Promise<File> {
    await this.checkEndpoint();
    return (await this.client()).bucket(location.container).file(location.key);
  }

  /** Before every operation: a custom endpoint must still pass (see client()). */
  private async checkEndpoint(): Promise<void> {
    if (this.endpoint && this.custom) await this.ctx.guard.checkUrl(this.endpoint);
  }

  private mapError(err: unknown, location: ParsedLocation): Error {
    return mapStoreError(err, location.href, (e) => {
      // The library's `timeout` (node-fetch's) ran out before the answer's headers.
      if ((e as { type?: unknown }).type === 'request-timeout') {
        const timeout = new OutboundTimeoutError(this.host, `did not answer within ${seconds(this.ctx.config.outboundTimeoutMs)}`);
        return new LocationUnavailableError(location.href, timeout.message);
      }
      const code = Number((e as { code?: unknown }).code);
      if (code === 404) return new LocationNotFoundError(location.href);
      if (code === 401 || code === 403) return new LocationAccessDeniedError(location.href, `HTTP ${code}`);
      if (/invalid_grant|invalid_client|private key|PEM|DECODER/i.test(e.message))
        return new LocationAccessDeniedError(location.href, 'the service account key was refused');
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
    if (!c.client_email || !c.private_key)
      throw new InvalidLocationError('connection', 'client_email and private_key go together: give both or neither.');
    // Keys pasted into SQL or JSON often carry "\n" as two characters.
    const privateKey = c.private_key.includes('\\n') ? c.private_key.replace(/\\n/g, '\n') : c.private_key;
    return {
      ...(base ? { apiEndpoint: base } : {}),
      credentials: { client_email: c.client_email, private_key: privateKey },
      useAuthWithCustomEndpoint: true,
    };
  }
  // The server's own service account authenticates only to Google itself, never to a user's endpoint.
  if (!customEndpoint && ctx.config.gcs.credentialsFile) return { keyFilename: ctx.config.gcs.credentialsFile };
  return anonymous;
}
