/**
 * The `s3://` driver's upload (a user's bucket and the service's own under STORAGE_URL alike): the
 * one multipart upload, a byte-counting stream in front of
 * `@aws-sdk/lib-storage`'s Upload, so memory stays at about partSize × (queueSize + 1) whatever the
 * object's size, and the object appears only when complete; and the client settings that keep the
 * SDK's requests bounded and its warnings in the JSON log.
 */
import { AbortMultipartUploadCommand, type S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type http from 'node:http';
import { Transform } from 'node:stream';
import type { Logger } from '../logger.js';
import { TransferAbortedError } from '../net/outbound-deadline.js';

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

/**
 * The S3 driver's client settings. The agents (see net/outbound-deadline.ts) close a
 * connection whose peer stays silent; the SDK's own `requestTimeout` is left unset: it measures a
 * whole request, a part's upload included, and without `throwOnRequestTimeout` it only prints a
 * warning to the console. The SDK's warnings go to the JSON log instead.
 */
export function s3ClientSettings(
  agents: { httpAgent: http.Agent; httpsAgent: http.Agent },
  logger: Logger | undefined,
): Pick<S3ClientConfig, 'requestHandler' | 'logger' | 'maxAttempts' | 'requestChecksumCalculation' | 'responseChecksumValidation'> {
  const log = sdkLogger(logger);
  return {
    requestHandler: new NodeHttpHandler({ ...agents, throwOnRequestTimeout: true, logger: log }),
    logger: log,
    // Three tries of at most OUTBOUND_TIMEOUT_MS of silence each: a dead store fails the call in
    // about three timeouts.
    maxAttempts: 3,
    ...S3_COMPATIBLE_CHECKSUMS,
  };
}

type SdkLogger = NonNullable<S3ClientConfig['logger']>;

/** The SDK's warnings and errors as log lines of ours; its per-request debug and info lines are dropped. */
function sdkLogger(logger: Logger | undefined): SdkLogger {
  const log = logger?.child({ component: 'aws-sdk' });
  // Only its text: an object the SDK logs is a command's input and outcome (a failed command is
  // logged so, and its caller reports the failure).
  const line =
    (level: 'warn' | 'error') =>
    (...content: unknown[]) => {
      const text = content.filter((c): c is string => typeof c === 'string').join(' ');
      if (text) log?.[level](text);
    };
  const drop = () => undefined;
  return { trace: drop, debug: drop, info: drop, warn: line('warn'), error: line('error') };
}

export interface S3UploadOptions {
  /** Bytes per part; raised to S3's minimum of 5 MiB. */
  partSize?: number | undefined;
  queueSize?: number | undefined;
  contentType?: string | undefined;
  /** Bytes the body buffers before it pushes back on the writer (default: Node's 16 KiB). */
  highWaterMark?: number | undefined;
  /** Called after each part is sent (tests count them). */
  onPart?: () => void;
  /** Stops the upload: requests in flight are torn down, nothing completes, parts are removed. */
  signal?: AbortSignal | undefined;
}

export interface S3Upload {
  /** Write the object's bytes here; end it to complete the upload. */
  body: Transform;
  /**
   * Resolves with the bytes written once the object exists; rejects with the SDK's error once a
   * failed or stopped upload has removed its parts (so the client must stay open until then).
   */
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
  const { signal } = opts;
  const upload = new Upload({
    client: signal ? sendingWith(client, signal) : client,
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
  // A writer that abandons the object (destroys the body with an error) fails the parts' reads:
  // the upload stops, removes its parts and rejects. A stop does the same, and its requests in
  // flight are torn down by the signal (see sendingWith).
  const stop = () => body.destroy(new TransferAbortedError());
  signal?.addEventListener('abort', stop, { once: true });
  const done = upload.done().then(
    () => ({ size }),
    (err: unknown) => {
      // The upload stopped reading: release whatever still writes into the body.
      body.destroy();
      throw err;
    },
  );
  done.catch(() => undefined).finally(() => signal?.removeEventListener('abort', stop));
  return { body, done, abort };
}

/**
 * `client` whose every request carries `signal`, so a stop tears down what is in flight at once
 * (lib-storage passes no signal of its own to its requests). Removing the parts of a stopped
 * upload is the one request left to run; its connection's silence still bounds it.
 */
function sendingWith(client: S3Client, signal: AbortSignal): S3Client {
  const send = ((command: unknown, options?: object) =>
    (client.send as (c: unknown, o?: object) => Promise<unknown>)(
      command,
      command instanceof AbortMultipartUploadCommand ? options : { ...options, abortSignal: signal },
    )) as S3Client['send'];
  return new Proxy(client, { get: (target, prop) => (prop === 'send' ? send : Reflect.get(target, prop, target)) });
}
