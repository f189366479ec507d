/**
 * The stages that turn a stored upload into COPY text, whatever its format: the file's bytes,
 * gunzip when it is compressed (held to `maxInflatedBytes` as it inflates), then a bytes encoder
 * (CSV, JSON, NDJSON) or, for formats read from a local file (Parquet, xlsx), a copy to a temp
 * file, the format's reader and the objects encoder. The reader stops at its next chunk or row
 * group once the job's signal is aborted or the pipeline is torn down; a format whose import
 * declares `thread` is read in a worker thread (row-reader-thread.ts), terminated then.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InvalidFileError } from '../errors.js';
import { BUILTIN_FIELDS, type FileType } from '../types/api.js';
import { gzipError } from './detect.js';
import { ERROR_REPORT_COLUMN } from './error-report.js';
import type { ImportFileOptions } from './format.js';
import type { ImportEncoder, ImportEncoderOptions } from './import-encoder.js';
import { ObjectImportEncoder } from './object-import.encoder.js';
import { formatOf } from './registry.js';
import { readRowsInThread } from './row-reader-thread.js';

export interface ImportInputOptions {
  fileType: FileType;
  gzip: boolean;
  encoder: ImportEncoderOptions & ImportFileOptions;
  /** Progress: bytes of the stored file read so far. */
  onBytes?: (bytes: number) => void;
  /** A gzip-compressed file may inflate to at most this many bytes (`UPLOAD_MAX_BYTES`: what it could be sent as). */
  maxInflatedBytes: number;
  signal?: AbortSignal;
}

export interface ImportInput {
  /** Pipe these, in order, into the COPY sink. */
  stages: Array<Readable | Transform>;
  encoder: ImportEncoder;
  /** Removes any temp file; call once the pipeline has ended, however it ended. */
  cleanup: () => Promise<void>;
}

export async function openImportInput(open: () => Promise<Readable>, opts: ImportInputOptions): Promise<ImportInput> {
  const shape = formatOf(opts.fileType)?.import;
  if (!shape) throw new InvalidFileError(`This server cannot import ${opts.fileType} files.`);
  const counted = (s: Readable): Array<Readable | Transform> => {
    const stages: Array<Readable | Transform> = [s];
    if (opts.onBytes) stages.push(byteCounter(opts.onBytes));
    if (opts.gzip) stages.push(createGunzip(), inflatedCap(opts.maxInflatedBytes));
    return stages;
  };
  if (shape.kind === 'bytes') {
    const encoder = shape.createEncoder(opts.encoder);
    return { stages: [...counted(await open()), encoder], encoder, cleanup: async () => undefined };
  }
  // Readers of Parquet and xlsx need to seek: the upload (decompressed) goes to a local file first.
  const dir = await mkdtemp(join(tmpdir(), 'tableport-import-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const path = join(dir, `upload.${opts.fileType}`);
    // One array of stages: pipeline(array, sink) would read the array itself as the source.
    await pipeline(
      [...counted(await open()), createWriteStream(path)] as unknown as [Readable, Writable],
      opts.signal ? { signal: opts.signal } : {},
    );
    const encoder = new ObjectImportEncoder(opts.encoder);
    // Destroying the stream asks the reader to stop only once it yields; the signal reaches it
    // inside a long read too (the shared strings of a workbook, a row group's pages).
    const torn = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, torn.signal]) : torn.signal;
    const read = {
      signal,
      columns: [...BUILTIN_FIELDS, ...opts.encoder.fields.map((f) => f.name), ERROR_REPORT_COLUMN],
      ...(opts.encoder.sheet !== undefined ? { sheet: opts.encoder.sheet } : {}),
    };
    if (shape.thread) {
      // The reader in a worker thread beside the encoder (row-reader-thread.ts); gone before the temp file.
      const threaded = await readRowsInThread(shape.thread, path, read);
      threaded.rows.once('close', () => torn.abort(new Error('The import stopped reading the file.')));
      return {
        stages: [threaded.rows, encoder],
        encoder,
        cleanup: async () => {
          await threaded.stopped();
          await cleanup();
        },
      };
    }
    const rows = Readable.from(shape.read(path, read), { objectMode: true, highWaterMark: 256 });
    rows.once('close', () => torn.abort(new Error('The import stopped reading the file.')));
    return { stages: [rows, encoder], encoder, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** A zlib failure (a damaged or cut .gz) as the user's error; any other error as it is. */
export function explainInputError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) return gzipError(err as Error);
  return err;
}

/** Passes inflated bytes on, failing the stream (and so the gunzip before it) past `limit` of them. */
function inflatedCap(limit: number): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      bytes += chunk.length;
      if (bytes <= limit) cb(null, chunk);
      else
        cb(
          new InvalidFileError(
            `The file is gzip-compressed and inflates to more than ${limit} bytes, the limit for one file (UPLOAD_MAX_BYTES); ` +
              'split it into smaller files.',
          ),
        );
    },
  });
}

function byteCounter(report: (bytes: number) => void): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      bytes += chunk.length;
      report(bytes);
      cb(null, chunk);
    },
  });
}
