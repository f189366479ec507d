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
 * The endpoint is the operator's, not a user's, so requests do not go through the outbound guard.
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
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageS3Config } from '../config.js';
import { NotFoundError } from '../errors.js';
import { S3_COMPATIBLE_CHECKSUMS, startS3Upload } from '../locations/s3-upload.js';
import { keySegments, type ByteRange, type StorageDriver, type StoredFileInfo } from './storage.driver.js';

export interface S3StorageOptions {
  /** Bytes per multipart part (S3's minimum is 5 MiB). */
  partSize?: number;
  queueSize?: number;
  /** Keys per listing page when removing a folder (S3's maximum, 1,000, by default). */
  listPageSize?: number;
}

export class S3StorageDriver implements StorageDriver {
  readonly bucket: string;
  /** '' or a prefix ending in '/'. */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly partSize: number | undefined;
  private readonly queueSize: number | undefined;
  private readonly listPageSize: number | undefined;

  constructor(config: StorageS3Config, opts: S3StorageOptions = {}) {
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.partSize = opts.partSize;
    this.queueSize = opts.queueSize;
    this.listPageSize = opts.listPageSize;
    const client: S3ClientConfig = {
      region: config.region,
      maxAttempts: 3,
      ...S3_COMPATIBLE_CHECKSUMS,
    };
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

  async put(key: string, source: Readable): Promise<{ size: number }> {
    let Key: string;
    try {
      Key = this.objectKey(key);
    } catch (err) {
      // The source will never be read: end it, or whatever feeds it (a COPY on a pooled connection)
      // waits forever. Without an error: nobody listens to this source's 'error' yet.
      source.destroy();
      throw err;
    }
    const upload = startS3Upload(this.client, this.bucket, Key, { partSize: this.partSize, queueSize: this.queueSize });
    // pipeline() listens for the source's errors at once and passes them on to the body, which
    // the upload reads: a source that fails, early or late, fails the upload, and nothing appears.
    const piped = pipeline(source, upload.body);
    const [pipeResult, uploadResult] = await Promise.allSettled([piped, upload.done]);
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

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const Key = this.objectKey(key);
    if (range) checkRange(range);
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined }),
      );
      if (!res.Body) throw new NotFoundError('The file does not exist.');
      return res.Body as Readable;
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
    this.client.destroy();
  }

  private mapError(err: unknown): unknown {
    if (err instanceof S3ServiceException) {
      if (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404) {
        return new NotFoundError('The file does not exist.');
      }
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
