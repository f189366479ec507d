/**
 * The one S3 multipart upload, shared by the `s3://` location driver (a user's bucket) and the
 * S3 storage driver (the service's own files under STORAGE_URL): a byte-counting stream in front of
 * `@aws-sdk/lib-storage`'s Upload, so memory stays at about partSize × (queueSize + 1) whatever the
 * object's size, and the object appears only when complete.
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Transform } from 'node:stream';

/** S3 refuses parts below 5 MiB, except the last. */
export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
/**
 * S3's smallest part, two in flight: ~15 MiB per upload at most (a part filling, two sending), and
 * 10,000 parts allow objects of 48 GiB, far above an export's 1,000,000-row cap. 8 MiB parts cost
 * ~9 MB more RSS in the 1M-row Parquet export to S3 (docs/benchmarks.md) for no speed gain there.
 */
export const S3_PART_SIZE = S3_MIN_PART_SIZE;
export const S3_QUEUE_SIZE = 2;

/** Checksums only where S3 demands them: S3-compatible stores (MinIO, s3rver) often reject the newer headers. */
export const S3_COMPATIBLE_CHECKSUMS: Pick<S3ClientConfig, 'requestChecksumCalculation' | 'responseChecksumValidation'> = {
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
};

export interface S3UploadOptions {
  /** Bytes per part; raised to S3's minimum of 5 MiB. */
  partSize?: number | undefined;
  queueSize?: number | undefined;
  contentType?: string | undefined;
  /** Bytes the body buffers before it pushes back on the writer (default: Node's 16 KiB). */
  highWaterMark?: number;
  /** Called after each part is sent (tests count them). */
  onPart?: () => void;
}

export interface S3Upload {
  /** Write the object's bytes here; end it to complete the upload. */
  body: Transform;
  /** Resolves with the bytes written once the object exists; rejects with the SDK's error. */
  done: Promise<{ size: number }>;
  /** Stops the upload and removes its parts (also done when `body` is destroyed with an error). */
  abort(): Promise<void>;
}

export function startS3Upload(client: S3Client, bucket: string, key: string, opts: S3UploadOptions = {}): S3Upload {
  let size = 0;
  const body = new Transform({
    ...(opts.highWaterMark ? { highWaterMark: opts.highWaterMark } : {}),
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: opts.contentType },
    partSize: Math.max(S3_MIN_PART_SIZE, opts.partSize ?? S3_PART_SIZE),
    queueSize: opts.queueSize ?? S3_QUEUE_SIZE,
    // A failed upload must not leave billable parts behind.
    leavePartsOnError: false,
  });
  const { onPart } = opts;
  if (onPart)
    upload.on('httpUploadProgress', (p) => {
      if (p.part !== undefined) onPart();
    });
  const abort = () => upload.abort().catch(() => undefined);
  // A writer that abandons the object (destroys the body with an error) stops the upload.
  body.once('error', () => void abort());
  const done = upload.done().then(
    () => ({ size }),
    (err: unknown) => {
      // The upload stopped reading: release whatever still writes into the body.
      body.destroy();
      throw err;
    },
  );
  done.catch(() => undefined);
  return { body, done, abort };
}
