/**
 * Amazon S3 and every S3-compatible store (MinIO, R2, GCS's interoperability API, s3rver) through
 * the official SDK v3. Writes are multipart uploads of bounded parts (./s3-upload.ts), so
 * memory stays at about partSize × (queueSize + 1) whatever the object's size; reads stream the
 * GetObject body; listings page through ListObjectsV2, which returns keys in UTF-8 byte order.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  type ListObjectsV2CommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type http from 'node:http';
import type { Readable } from 'node:stream';
import { InvalidLocationError, LocationAccessDeniedError, LocationNotFoundError } from '../errors.js';
import { Deadline, hostPort } from '../net/outbound-deadline.js';
import { portOf } from '../net/outbound-guard.js';
import type { S3Connection } from './connection-options.js';
import type {
  ListedObject,
  LocationDriver,
  OpenedRead,
  OpenedWrite,
  ParsedLocation,
  TransferOptions,
  WriteOptions,
} from './location.driver.js';
import { baseName, childLocation } from './location-url.js';
import { s3ClientSettings, startS3Upload } from './s3-upload.js';
import { mapStoreError, type DriverContext } from './store-errors.js';

export interface S3DriverOptions {
  /** Bytes per multipart part; S3 requires at least 5 MiB. Tests lower the object size, not this. */
  partSize?: number;
  queueSize?: number;
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1,000); tests lower it to see paging. */
  listPageSize?: number;
}

export class S3LocationDriver implements LocationDriver {
  readonly scheme = 's3' as const;
  private readonly client: S3Client;
  private readonly agents: http.Agent[];
  private readonly partSize: number | undefined;
  private readonly queueSize: number | undefined;
  private readonly listPageSize: number | undefined;
  /** The store as timeouts name it: the endpoint's host:port, or AWS's regional one. */
  private readonly host: string;
  private readonly maxDurationMs: number;
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
    const custom = connection.endpoint_url !== undefined;
    const endpoint = custom ? checkEndpoint(connection.endpoint_url ?? '', 'connection.endpoint_url') : undefined;
    const region = connection.region ?? ctx.config.aws.region ?? 'us-east-1';
    this.host = endpoint ? hostPort(endpoint.hostname, portOf(endpoint)) : `s3.${region}.amazonaws.com:443`;
    const httpAgent = ctx.guard.agent('http:', { keepAlive: true, maxSockets: 8 });
    const httpsAgent = ctx.guard.agent('https:', { keepAlive: true, maxSockets: 8 });
    this.agents = [httpAgent, httpsAgent];
    const config: S3ClientConfig = {
      region,
      forcePathStyle: connection.virtual_hosted_style !== true,
      ...s3ClientSettings({ httpAgent, httpsAgent }, ctx.logger),
      ...credentialsFor(connection, ctx, custom),
    };
    if (custom) config.endpoint = connection.endpoint_url;
    this.client = new S3Client(config);
  }

  async openRead(location: ParsedLocation, opts: TransferOptions = {}): Promise<OpenedRead> {
    const deadline = new Deadline(this.host, this.maxDurationMs, opts.signal);
    try {
      const res = await deadline.race(
        this.client.send(new GetObjectCommand({ Bucket: location.container, Key: location.key }), { abortSignal: deadline.signal }),
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
      highWaterMark: 1024 * 1024,
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

function credentialsFor(c: S3Connection, ctx: DriverContext, customEndpoint: boolean): Pick<S3ClientConfig, 'credentials' | 'signer'> {
  if (c.access_key_id !== undefined || c.secret_key !== undefined) {
    if (!c.access_key_id || !c.secret_key)
      throw new InvalidLocationError('connection', 'access_key_id and secret_key go together: give both or neither.');
    return { credentials: { accessKeyId: c.access_key_id, secretAccessKey: c.secret_key, sessionToken: c.token } };
  }
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
