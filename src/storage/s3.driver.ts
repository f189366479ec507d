/**
 * The service's own files (export files, uploads waiting for their import) in an S3 bucket or any
 * S3-compatible store (MinIO, R2, s3rver), chosen with STORAGE_URL=s3://bucket/prefix. Keys are
 * checked exactly as the local driver checks them and live under the URL's prefix.
 *
 * put → the location layer's multipart upload (src/locations/s3-upload.ts) of bounded parts, so memory stays flat and an
 * object appears only when complete (atomic by nature; a failed source aborts the upload and
 * leaves nothing); putFile → the same from a read stream, then the local file is removed;
 * get → GetObject, ranged; stat → HeadObject; delete → DeleteObject; deletePrefix → ListObjectsV2
 * and DeleteObjects in pages of 1,000.
 *
 * The endpoint is the operator's, not a user's, so requests do not go through the outbound guard;
 * they are bounded as every outbound call is (src/net/outbound-deadline.ts): a store silent for
 * OUTBOUND_TIMEOUT_MS fails the call, a put past OUTBOUND_MAX_DURATION_MS fails, and a caller's
 * signal stops a put or a read at once. Such a failure is a 503 `service_unavailable` that does not
 * name the operator's endpoint to users; the log line does.
 */
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import type http from 'node:http';
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageS3Config } from '../config.js';
import { NotFoundError, ServiceUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { s3ClientSettings, startS3Upload } from '../locations/s3-upload.js';
import { Deadline, hostPort, OutboundTimeoutError, timedAgent } from '../net/outbound-deadline.js';
import { portOf } from '../net/outbound-guard.js';
import { keySegments, type ByteRange, type StorageDriver, type StorageTransferOptions, type StoredFileInfo } from './storage.driver.js';

export interface S3StorageOptions {
  /** Bytes per multipart part (S3's minimum is 5 MiB). */
  partSize?: number;
  queueSize?: number;
  /** Keys per listing page when removing a folder (S3's maximum, 1,000, by default). */
  listPageSize?: number;
  /** OUTBOUND_TIMEOUT_MS: how long the store may stay silent on a connection (default 30 s). */
  idleTimeoutMs?: number;
  /** OUTBOUND_MAX_DURATION_MS: the longest one put may take (default 1 h). */
  maxDurationMs?: number;
  /** Where the SDK's warnings and the store's timeouts are logged. */
  logger?: Logger;
}

export class S3StorageDriver implements StorageDriver {
  readonly bucket: string;
  /** '' or a prefix ending in '/'. */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly partSize: number | undefined;
  private readonly queueSize: number | undefined;
  private readonly listPageSize: number | undefined;
  private readonly agents: http.Agent[];
  /** The store as the log names it in a timeout. */
  private readonly host: string;
  private readonly maxDurationMs: number;
  private readonly logger: Logger | undefined;
  /** Uploads that have not settled yet (a stopped one still removes its parts): close() waits for them. */
  private readonly uploads = new Set<Promise<unknown>>();

  constructor(config: StorageS3Config, opts: S3StorageOptions = {}) {
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.partSize = opts.partSize;
    this.queueSize = opts.queueSize;
    this.listPageSize = opts.listPageSize;
    this.maxDurationMs = opts.maxDurationMs ?? 3_600_000;
    this.logger = opts.logger;
    const endpoint = config.endpoint ? new URL(config.endpoint) : undefined;
    this.host = endpoint ? hostPort(endpoint.hostname, portOf(endpoint)) : `s3.${config.region}.amazonaws.com:443`;
    const idle = opts.idleTimeoutMs ?? 30_000;
    const httpAgent = timedAgent('http:', idle, { keepAlive: true, maxSockets: 50 });
    const httpsAgent = timedAgent('https:', idle, { keepAlive: true, maxSockets: 50 });
    this.agents = [httpAgent, httpsAgent];
    const client: S3ClientConfig = { region: config.region, ...s3ClientSettings({ httpAgent, httpsAgent }, opts.logger) };
    if (config.endpoint) {
      client.endpoint = config.endpoint;
      // MinIO and most self-hosted stores have no wildcard DNS for bucket host names.
      client.forcePathStyle = true;
    }
    // Without keys the SDK's own chain applies (environment, profile, instance role).
    if (config.accessKeyId && config.secretAccessKey) {
      client.credentials = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
    }
    this.client = new S3Client(client);
  }

  /** The object key of a storage key: the checked segments under the configured prefix. */
  objectKey(key: string): string {
    return this.prefix + keySegments(key).join('/');
  }

  async put(key: string, source: Readable, opts: StorageTransferOptions = {}): Promise<{ size: number }> {
    let Key: string;
    try {
      Key = this.objectKey(key);
    } catch (err) {
      // The source will never be read: end it, or whatever feeds it (a COPY on a pooled connection)
      // waits forever. Without an error: nobody listens to this source's 'error' yet.
      source.destroy();
      throw err;
    }
    const deadline = new Deadline(this.host, this.maxDurationMs, opts.signal);
    const upload = startS3Upload(this.client, this.bucket, Key, {
      partSize: this.partSize,
      queueSize: this.queueSize,
      signal: deadline.signal,
    });
    this.track(upload.done);
    // pipeline() listens for the source's errors at once and passes them on to the body, which
    // the upload reads: a source that fails, early or late, fails the upload, and nothing appears.
    const piped = pipeline(source, upload.body);
    const [pipeResult, uploadResult] = await Promise.allSettled([piped, deadline.race(upload.done)]);
    deadline.end();
    // The deadline or the caller's stop explains the failure better than what it tore down.
    if (deadline.reason) {
      source.destroy();
      throw this.mapError(deadline.reason);
    }
    // The source's own error explains more than the upload's echo of it; a pipeline that only saw
    // the upload stop (premature close) has nothing to add.
    if (pipeResult.status === 'rejected' && !(uploadResult.status === 'rejected' && isPrematureClose(pipeResult.reason))) {
      await upload.abort();
      throw pipeResult.reason;
    }
    if (uploadResult.status === 'rejected') throw this.mapError(uploadResult.reason);
    return uploadResult.value;
  }

  async putFile(key: string, localPath: string): Promise<{ size: number }> {
    this.objectKey(key); // refuse a bad key before reading anything
    const result = await this.put(key, createReadStream(localPath));
    await unlink(localPath).catch(() => undefined);
    return result;
  }

  async get(key: string, range?: ByteRange, opts: StorageTransferOptions = {}): Promise<Readable> {
    const Key = this.objectKey(key);
    if (range) checkRange(range);
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined }),
        { abortSignal: opts.signal },
      );
      if (!res.Body) throw new NotFoundError('The file does not exist.');
      // A user's download may be slow on purpose: only silence and the caller's stop bound a read.
      const deadline = new Deadline(this.host, undefined, opts.signal);
      return deadline.stream(res.Body as Readable, { mapError: (e) => this.mapError(e) as Error });
    } catch (err) {
      throw this.mapError(err);
    }
  }

  async stat(key: string): Promise<StoredFileInfo | null> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: res.ContentLength ?? 0, mtime: res.LastModified ?? new Date(0) };
    } catch (err) {
      const mapped = this.mapError(err);
      if (mapped instanceof NotFoundError) return null;
      throw mapped;
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    // S3 answers 204 for a missing key too: deleting is idempotent there already.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
  }

  async deletePrefix(prefix: string): Promise<void> {
    // As a folder: "exports/abc" removes "exports/abc/x" and not "exports/abcd/x".
    const folder = `${this.objectKey(prefix.replace(/\/+$/, ''))}/`;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, ContinuationToken: token, MaxKeys: this.listPageSize }),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) {
        const res = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
        const failed = res.Errors?.[0];
        if (failed) throw new Error(`Could not delete ${failed.Key ?? 'an object'} from the storage bucket (${failed.Code ?? 'unknown'}).`);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  close(): void {
    const destroy = () => {
      this.client.destroy();
      for (const a of this.agents) a.destroy();
    };
    if (this.uploads.size === 0) destroy();
    else void Promise.allSettled([...this.uploads]).then(destroy);
  }

  private track(done: Promise<unknown>): void {
    const settled = done.catch(() => undefined).finally(() => this.uploads.delete(settled));
    this.uploads.add(settled);
  }

  private mapError(err: unknown): unknown {
    if (err instanceof S3ServiceException) {
      if (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404) {
        return new NotFoundError('The file does not exist.');
      }
    }
    const timeout = OutboundTimeoutError.find(err);
    if (timeout) {
      this.logger?.warn({ err: timeout.message, bucket: this.bucket }, 'the storage bucket did not answer in time');
      return Object.assign(new ServiceUnavailableError(5, "The service's file storage did not answer in time; please try again later."), {
        cause: timeout,
      });
    }
    return err;
  }
}

function checkRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new RangeError(`Invalid byte range ${start}-${end ?? ''}.`);
  }
}

function isPrematureClose(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}
