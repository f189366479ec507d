/**
 * Amazon S3 and every S3-compatible store (MinIO, R2, GCS's interoperability API, s3rver) through
 * the official SDK v3. Writes are multipart uploads of bounded parts (./s3-upload.ts), so
 * memory stays at about partSize × (queueSize + 1) whatever the object's size; reads stream the
 * GetObject body; listings page through ListObjectsV2, which returns keys in UTF-8 byte order.
 *
 * The service's own bucket (STORAGE_URL) is this driver too, with `ownStorage`: its endpoint is the
 * operator's, not a user's, so requests do not go through the outbound guard (MinIO may sit on a
 * private address) and are bounded by silence as every outbound call is; without keys the SDK's own
 * chain applies (environment, profile, instance role); and a read is bounded by silence and the
 * caller's stop only, since a user's download may be slow on purpose.
 */
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  type ListObjectsV2CommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type http from 'node:http';
import type { Readable } from 'node:stream';
import { InvalidLocationError, LocationAccessDeniedError, LocationNotFoundError } from '../errors.js';
import { Deadline, hostPort, timedAgent } from '../net/outbound-deadline.js';
import { portOf } from '../net/outbound-guard.js';
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
import { definePlace, type ConnectionOf, type Place } from './place.js';
import { s3ClientSettings, startS3Upload } from './s3-upload.js';
import { mapStoreError, type DriverContext } from './store-errors.js';

const S3_OPTIONS = {
  region: 'text',
  access_key_id: 'text',
  secret_key: 'text',
  endpoint_url: 'text',
  token: 'text',
  virtual_hosted_style: 'flag',
} as const;
export type S3Connection = ConnectionOf<typeof S3_OPTIONS>;

export const s3Place: Place<'s3'> = definePlace({
  schemes: ['s3'],
  url: 'bucket',
  options: S3_OPTIONS,
  open: ({ connection, ctx }) => new S3LocationDriver(connection, ctx, ctx.s3),
});

export interface S3DriverOptions {
  /** Bytes per multipart part; S3 requires at least 5 MiB. Tests lower the object size, not this. */
  partSize?: number;
  queueSize?: number;
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1,000); tests lower it to see paging. */
  listPageSize?: number;
  /** The service's own bucket (STORAGE_URL), chosen by the operator: see the top of this file. */
  ownStorage?: boolean;
}

export class S3LocationDriver implements StoreDriver {
  readonly scheme = 's3' as const;
  private readonly client: S3Client;
  private readonly agents: http.Agent[];
  private readonly partSize: number | undefined;
  private readonly queueSize: number | undefined;
  private readonly listPageSize: number | undefined;
  /** The store as timeouts name it: the endpoint's host:port, or AWS's regional one. */
  private readonly host: string;
  private readonly maxDurationMs: number;
  /** How long one read may take: OUTBOUND_MAX_DURATION_MS, or no limit for the service's own bucket. */
  private readonly readMaxDurationMs: number | undefined;
  /**
   * What a write buffers before it pushes back: 1 MiB for a user's bucket; Node's default for the
   * service's own, as it always had (s3rver, in the tests, interleaves concurrent PUTs of one key
   * when bodies arrive in large chunks).
   */
  private readonly writeHighWaterMark: number | undefined;
  /** Uploads that have not settled yet (a stopped one still removes its parts): close() waits for them. */
  private readonly uploads = new Set<Promise<unknown>>();
  private closed = false;
  /** Parts sent by this driver's uploads and list pages fetched, so a test can see both happen. */
  partsUploaded = 0;
  listPages = 0;

  constructor(connection: S3Connection, ctx: DriverContext, opts: S3DriverOptions = {}) {
    this.partSize = opts.partSize;
    this.queueSize = opts.queueSize;
    this.listPageSize = opts.listPageSize;
    this.maxDurationMs = ctx.config.outboundMaxDurationMs;
    const own = opts.ownStorage === true;
    this.readMaxDurationMs = own ? undefined : this.maxDurationMs;
    this.writeHighWaterMark = own ? undefined : 1024 * 1024;
    const custom = connection.endpoint_url !== undefined;
    const endpoint = custom ? checkEndpoint(connection.endpoint_url ?? '', 'connection.endpoint_url') : undefined;
    const region = connection.region ?? ctx.config.aws.region ?? 'us-east-1';
    this.host = endpoint ? hostPort(endpoint.hostname, portOf(endpoint)) : `s3.${region}.amazonaws.com:443`;
    const agent = (protocol: 'http:' | 'https:') =>
      own
        ? timedAgent(protocol, ctx.config.outboundTimeoutMs, { keepAlive: true, maxSockets: 50 })
        : ctx.guard.agent(protocol, { keepAlive: true, maxSockets: 8 });
    const httpAgent = agent('http:');
    const httpsAgent = agent('https:');
    this.agents = [httpAgent, httpsAgent];
    const config: S3ClientConfig = {
      region,
      forcePathStyle: connection.virtual_hosted_style !== true,
      ...s3ClientSettings({ httpAgent, httpsAgent }, ctx.logger),
      ...credentialsFor(connection, ctx, custom, own),
    };
    if (custom) config.endpoint = connection.endpoint_url;
    this.client = new S3Client(config);
  }

  async openRead(location: ParsedLocation, opts: RangeReadOptions = {}): Promise<OpenedRead> {
    const deadline = new Deadline(this.host, this.readMaxDurationMs, opts.signal);
    const { range } = opts;
    try {
      const res = await deadline.race(
        this.client.send(
          new GetObjectCommand({
            Bucket: location.container,
            Key: location.key,
            Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
          }),
          { abortSignal: deadline.signal },
        ),
      );
      const body = res.Body as Readable | undefined;
      if (!body) throw new LocationNotFoundError(location.href);
      const stream = deadline.stream(body, { mapError: (err) => this.mapError(err, location) });
      return { stream, size: res.ContentLength, name: baseName(location.key) };
    } catch (err) {
      deadline.end();
      throw this.mapError(err, location);
    }
  }

  async *list(folder: ParsedLocation, opts: TransferOptions = {}): AsyncIterable<ListedObject> {
    const deadline = new Deadline(this.host, this.maxDurationMs, opts.signal);
    try {
      let token: string | undefined;
      do {
        let page: ListObjectsV2CommandOutput;
        try {
          page = await deadline.race(
            this.client.send(
              new ListObjectsV2Command({
                Bucket: folder.container,
                Prefix: folder.key,
                ContinuationToken: token,
                MaxKeys: this.listPageSize,
              }),
              { abortSignal: deadline.signal },
            ),
          );
        } catch (err) {
          throw this.mapError(err, folder);
        }
        this.listPages++;
        for (const o of page.Contents ?? []) {
          // A zero-byte key ending in '/' is a console-made "folder" marker, not a file.
          if (!o.Key || o.Key.endsWith('/')) continue;
          const name = o.Key.slice(folder.key.length);
          yield { location: childLocation(folder, name), name, size: o.Size ?? 0 };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } finally {
      deadline.end();
    }
  }

  openWrite(location: ParsedLocation, opts: WriteOptions = {}): OpenedWrite {
    const deadline = new Deadline(this.host, this.maxDurationMs, opts.signal);
    const upload = startS3Upload(this.client, location.container, location.key, {
      partSize: this.partSize,
      queueSize: this.queueSize,
      contentType: opts.contentType,
      highWaterMark: this.writeHighWaterMark,
      onPart: () => this.partsUploaded++,
      signal: deadline.signal,
    });
    const settled = upload.done.catch(() => undefined).finally(() => this.uploads.delete(settled));
    this.uploads.add(settled);
    const done = deadline
      .race(upload.done)
      .then(
        ({ size }) => ({ url: location.href, size }),
        (err: unknown) => {
          throw this.mapError(err, location);
        },
      )
      .finally(() => deadline.end());
    done.catch(() => undefined);
    return { stream: upload.body, done };
  }

  async stat(location: ParsedLocation): Promise<StoredObjectInfo | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: location.container, Key: location.key }));
      return { size: res.ContentLength ?? 0, mtime: res.LastModified ?? new Date(0) };
    } catch (err) {
      const mapped = this.mapError(err, location);
      if (mapped instanceof LocationNotFoundError) return null;
      throw mapped;
    }
  }

  async delete(location: ParsedLocation): Promise<void> {
    // S3 answers 204 for a missing key too: deleting is idempotent there already.
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: location.container, Key: location.key }));
    } catch (err) {
      throw this.mapError(err, location);
    }
  }

  async deleteFolder(folder: ParsedLocation): Promise<void> {
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: folder.container, Prefix: folder.key, ContinuationToken: token, MaxKeys: this.listPageSize }),
        );
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
        if (keys.length > 0) {
          const res = await this.client.send(
            new DeleteObjectsCommand({ Bucket: folder.container, Delete: { Objects: keys, Quiet: true } }),
          );
          const failed = res.Errors?.[0];
          if (failed) throw new Error(`Could not delete ${failed.Key ?? 'an object'} from ${folder.href} (${failed.Code ?? 'unknown'}).`);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.mapError(err, folder);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const destroy = () => {
      this.client.destroy();
      for (const a of this.agents) a.destroy();
    };
    if (this.uploads.size === 0) destroy();
    else void Promise.allSettled([...this.uploads]).then(destroy);
  }

  private mapError(err: unknown, location: ParsedLocation): Error {
    return mapStoreError(err, location.href, (e) => {
      if (!(e instanceof S3ServiceException)) return undefined;
      const status = e.$metadata.httpStatusCode;
      if (e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.name === 'NotFound' || status === 404)
        return new LocationNotFoundError(location.href);
      if (
        status === 403 ||
        status === 401 ||
        /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|InvalidToken/.test(e.name)
      ) {
        // The error's name (e.g. InvalidAccessKeyId) helps and holds no secret; its message may echo the key id.
        return new LocationAccessDeniedError(location.href, e.name);
      }
      return undefined;
    });
  }
}

function credentialsFor(
  c: S3Connection,
  ctx: DriverContext,
  customEndpoint: boolean,
  ownStorage: boolean,
): Pick<S3ClientConfig, 'credentials' | 'signer'> {
  if (c.access_key_id !== undefined || c.secret_key !== undefined) {
    if (!c.access_key_id || !c.secret_key)
      throw new InvalidLocationError('connection', 'access_key_id and secret_key go together: give both or neither.');
    return { credentials: { accessKeyId: c.access_key_id, secretAccessKey: c.secret_key, sessionToken: c.token } };
  }
  // The operator's bucket without keys: the SDK's own chain (environment, profile, instance role).
  if (ownStorage) return {};
  // The server's own keys sign requests only to AWS itself: a user's endpoint_url must not receive
  // requests signed with them.
  const aws = ctx.config.aws;
  if (!customEndpoint && aws.accessKeyId && aws.secretAccessKey) {
    return { credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey, sessionToken: aws.sessionToken } };
  }
  // Anonymous (a public bucket). Explicit, so the SDK never looks for keys elsewhere (files, IMDS).
  return { credentials: { accessKeyId: '', secretAccessKey: '' }, signer: { sign: async (request) => request } };
}

/** An endpoint option must be an http(s) URL; the guard checks where it points when connecting. */
export function checkEndpoint(value: string, parameter: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidLocationError(parameter, `${parameter} must be an http:// or https:// URL.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InvalidLocationError(parameter, `${parameter} must be an http:// or https:// URL.`);
  if (u.username || u.password) throw new InvalidLocationError(parameter, `${parameter} must not carry a user name or password.`);
  return u;
}
