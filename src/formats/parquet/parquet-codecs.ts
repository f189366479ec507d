/**
 * The page decompressors of the Parquet reader, each held to the size its page header declares: a
 * declared size over {@link PARQUET_MAX_PAGE_BYTES} is refused before anything is inflated, and no
 * codec may write past the declared size (zlib's `maxOutputLength`, an output buffer of that size,
 * or the size the stream itself announces checked first). Snappy runs in WebAssembly, lz4 in
 * JavaScript, gzip and brotli in node's native zlib (faster), zstd in a worker thread: fzstd loops
 * forever on some damaged frames, and only another thread can be stopped.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { CompressionCodec } from 'hyparquet';
import { decompressLz4, decompressLz4Raw, compressors as jsCompressors } from 'hyparquet-compressors';
import { InvalidFileError } from '../../errors.js';

/**
 * One page may inflate to at most this many bytes. DuckDB writes pages of up to 100 MiB (long
 * texts); a page bomb asks for 900 MB from a 1 MB file.
 */
export const PARQUET_MAX_PAGE_BYTES = 128 * 1024 * 1024;
/** A zstd page that has not inflated after this long is a damaged one fzstd loops on. */
export const ZSTD_PAGE_TIMEOUT_MS = 10_000;

export type Decompress = (input: Uint8Array, outputLength: number) => Uint8Array;

export function damaged(why: string): InvalidFileError {
  return new InvalidFileError(`The Parquet file is damaged: ${why}.`);
}

export function pageTooLarge(codec: string, bytes: number): InvalidFileError {
  return new InvalidFileError(
    `A ${codec} page of the Parquet file inflates to ${bytes} bytes, more than the limit of ${PARQUET_MAX_PAGE_BYTES} bytes ` +
      '(128 MiB) for one page; the file is refused.',
  );
}

/** The uncompressed length a snappy block announces in its preamble (a varint), or -1. */
function snappyLength(input: Uint8Array): number {
  let n = 0;
  for (let i = 0, shift = 0; i < 5 && i < input.length; i++, shift += 7) {
    const b = input[i] as number;
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return n;
  }
  return -1;
}

/** The content size a zstd frame header announces, or -1 when it announces none. */
function zstdContentSize(input: Uint8Array): number {
  if (input.length < 6 || input[0] !== 0x28 || input[1] !== 0xb5 || input[2] !== 0x2f || input[3] !== 0xfd) return -1;
  const fhd = input[4] as number;
  const single = (fhd >> 5) & 1;
  const sizeBytes = [single, 2, 4, 8][fhd >> 6] ?? 0;
  if (sizeBytes === 0) return -1;
  const at = 5 + (single ? 0 : 1) + ([0, 1, 2, 4][fhd & 3] ?? 0);
  if (at + sizeBytes > input.length) return -1;
  let n = 0;
  for (let i = sizeBytes - 1; i >= 0; i--) n = n * 256 + (input[at + i] as number);
  return sizeBytes === 2 ? n + 256 : n;
}

/** Snappy in WebAssembly (one instance, set up once; its memory grows to the largest page and stays). */
const snappy: Decompress = (() => {
  const wasm = jsCompressors.SNAPPY;
  if (!wasm) throw new Error('hyparquet-compressors has no SNAPPY decompressor');
  return wasm;
})();

// The worker requires fzstd's CommonJS build, found where hyparquet-compressors finds it, with no
// loader hooks of this process (tsx) to wait on.
const ZSTD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { decompress } = require(workerData.fzstd);
parentPort.on('message', ({ input, output, state }) => {
  const flag = new Int32Array(state);
  let result = 1;
  try {
    decompress(input, new Uint8Array(output));
  } catch {
    result = 2;
  }
  Atomics.store(flag, 0, result);
  Atomics.notify(flag, 0);
});`;

let zstdWorker: Worker | undefined;

/**
 * fzstd in a worker thread, waited for synchronously (hyparquet's decompressors are synchronous) for
 * at most {@link ZSTD_PAGE_TIMEOUT_MS}: a worker stuck in a loop is terminated and the page refused.
 */
function zstd(input: Uint8Array, outputLength: number): Uint8Array {
  if (!zstdWorker) {
    const fzstd = createRequire(createRequire(import.meta.url).resolve('hyparquet-compressors')).resolve('fzstd');
    zstdWorker = new Worker(ZSTD_WORKER, { eval: true, workerData: { fzstd }, execArgv: [] });
    // Idle, it must not keep the process alive.
    zstdWorker.unref();
  }
  const state = new SharedArrayBuffer(4);
  const output = new SharedArrayBuffer(outputLength);
  zstdWorker.postMessage({ input, output, state });
  const flag = new Int32Array(state);
  if (Atomics.wait(flag, 0, 0, ZSTD_PAGE_TIMEOUT_MS) === 'timed-out') {
    void zstdWorker.terminate();
    zstdWorker = undefined;
    throw new Error(`it did not inflate within ${ZSTD_PAGE_TIMEOUT_MS / 1000} s`);
  }
  if (Atomics.load(flag, 0) !== 1) throw new Error('its data is not valid zstd');
  // hyparquet decodes text with TextDecoder, which refuses views of shared memory.
  const page = new Uint8Array(outputLength);
  page.set(new Uint8Array(output));
  return page;
}

/**
 * A decompressor held to a page's declared size; `check` sees each page once inflated (and may
 * refuse it) before the decoder does.
 */
function capped(codec: CompressionCodec, decompress: Decompress, check?: (input: Uint8Array, page: Uint8Array) => void): Decompress {
  return (input, outputLength) => {
    if (!Number.isSafeInteger(outputLength) || outputLength < 0) throw damaged(`a ${codec} page declares ${outputLength} bytes`);
    if (outputLength > PARQUET_MAX_PAGE_BYTES) throw pageTooLarge(codec, outputLength);
    let page: Uint8Array;
    try {
      page = decompress(input, outputLength);
    } catch (err) {
      throw damaged(`a ${codec} page does not inflate to the ${outputLength} bytes its header declares (${(err as Error).message})`);
    }
    check?.(input, page);
    return page;
  };
}

/** hyparquet's `compressors`, every one capped; `check` sees each inflated page with its compressed bytes. */
export function pageDecompressors(check?: (input: Uint8Array, page: Uint8Array) => void): Partial<Record<CompressionCodec, Decompress>> {
  return {
    GZIP: capped('GZIP', (input, n) => gunzipSync(input, { maxOutputLength: Math.max(n, 1) }), check),
    BROTLI: capped('BROTLI', (input, n) => brotliDecompressSync(input, { maxOutputLength: Math.max(n, 1) }), check),
    SNAPPY: capped(
      'SNAPPY',
      (input, n) => {
        // The WASM decoder writes as much as the preamble announces, into memory it never gives back.
        const announced = snappyLength(input);
        if (announced !== n) throw new Error(`it announces ${announced} bytes`);
        return snappy(input, n);
      },
      check,
    ),
    ZSTD: capped(
      'ZSTD',
      (input, n) => {
        const announced = zstdContentSize(input);
        if (announced !== -1 && announced !== n) throw new Error(`it announces ${announced} bytes`);
        // Into a buffer of the declared size: fzstd stops there, whatever the frame holds.
        return zstd(input, n);
      },
      check,
    ),
    // Both write into a buffer of the declared size.
    LZ4: capped('LZ4', decompressLz4, check),
    LZ4_RAW: capped('LZ4_RAW', decompressLz4Raw, check),
  };
}
