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

/** `where`: the page's column and row group, when known (from its header, before it is inflated). */
export function pageTooLarge(codec: string, bytes: number, where?: string): InvalidFileError {
  return new InvalidFileError(
    `A ${codec} page ${where ? `of ${where} ` : ''}of the Parquet file inflates to ${bytes} bytes, more than the limit of ${PARQUET_MAX_PAGE_BYTES} bytes ` +
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

/** What a zstd frame header announces: its content size (-1 when it does not say) and its window. */
function zstdFrame(input: Uint8Array): { size: number; window: number } | undefined {
  if (input.length < 6 || input[0] !== 0x28 || input[1] !== 0xb5 || input[2] !== 0x2f || input[3] !== 0xfd) return undefined;
  const fhd = input[4] as number;
  const single = (fhd >> 5) & 1;
  const sizeBytes = [single, 2, 4, 8][fhd >> 6] ?? 0;
  const at = 5 + (single ? 0 : 1) + ([0, 1, 2, 4][fhd & 3] ?? 0);
  if (at + sizeBytes > input.length) return undefined;
  let size = -1;
  if (sizeBytes) {
    size = 0;
    for (let i = sizeBytes - 1; i >= 0; i--) size = size * 256 + (input[at + i] as number);
    if (sizeBytes === 2) size += 256;
  }
  const descriptor = input[5] as number;
  const base = 2 ** (10 + (descriptor >> 3));
  return { size, window: single ? size : base + (base / 8) * (descriptor & 7) };
}

/** The length an LZ4 block decodes to, found by walking its sequences without writing them; -1 if damaged. */
function lz4BlockLength(input: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; ) {
    const token = input[i++] as number;
    let literals = token >> 4;
    for (let b = 255; literals >= 15 && b === 255; literals += b) {
      b = input[i++] ?? -1;
      if (b < 0) return -1;
    }
    i += literals;
    n += literals;
    if (i >= to) return i === to ? n : -1;
    i += 2;
    let match = (token & 15) + 4;
    for (let b = 255; (token & 15) === 15 && b === 255; match += b) {
      b = input[i++] ?? -1;
      if (b < 0) return -1;
    }
    n += match;
  }
  return n;
}

/** What an LZ4 page decodes to: Hadoop's framing (big-endian sizes before each block) when it fits, else one raw block. */
function lz4Length(input: Uint8Array, hadoop: boolean): number {
  if (hadoop) {
    let total = 0;
    let i = 0;
    while (i + 8 <= input.length) {
      const out =
        (input[i] as number) * 2 ** 24 + ((input[i + 1] as number) << 16) + (((input[i + 2] as number) << 8) | (input[i + 3] as number));
      const size =
        (input[i + 4] as number) * 2 ** 24 +
        ((input[i + 5] as number) << 16) +
        (((input[i + 6] as number) << 8) | (input[i + 7] as number));
      if (i + 8 + size > input.length || lz4BlockLength(input, i + 8, i + 8 + size) !== out) break;
      total += out;
      i += 8 + size;
      if (i === input.length) return total;
    }
  }
  return lz4BlockLength(input, 0, input.length);
}

/** Snappy in WebAssembly (one instance, set up once; its memory grows to the largest page and stays). */
const snappy: Decompress = (() => {
  const wasm = jsCompressors.SNAPPY;
  if (!wasm) throw new Error('hyparquet-compressors has no SNAPPY decompressor');
  return wasm;
})();

// The worker requires fzstd's CommonJS build, found where hyparquet-compressors finds it, with no
// loader hooks of this process (tsx) to wait on. Streamed, so that what a frame inflates to is
// counted as it comes: 1 is a page of exactly the declared size, 2 a damaged frame, 3 another size.
const ZSTD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { Decompress } = require(workerData.fzstd);
parentPort.on('message', ({ input, output, state }) => {
  const flag = new Int32Array(state);
  const page = new Uint8Array(output);
  let written = 0;
  let result = 1;
  try {
    new Decompress((chunk) => {
      if (written + chunk.length > page.length) throw new RangeError('past the declared size');
      page.set(chunk, written);
      written += chunk.length;
    }).push(input, true);
    if (written !== page.length) result = 3;
  } catch (err) {
    result = err instanceof RangeError ? 3 : 2;
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
  const frame = zstdFrame(input);
  if (!frame) throw new Error('it is not a zstd frame');
  if (frame.size !== -1 && frame.size !== outputLength) throw new Error(`it announces ${frame.size} bytes`);
  // The streaming decoder allocates the window the frame asks for.
  if (frame.window > PARQUET_MAX_PAGE_BYTES) throw new Error(`it asks for a window of ${frame.window} bytes`);
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
  const result = Atomics.load(flag, 0);
  if (result === 3) throw new Error('it inflates to another size');
  if (result !== 1) throw new Error('its data is not valid zstd');
  // hyparquet decodes text with TextDecoder, which refuses views of shared memory.
  const page = new Uint8Array(outputLength);
  page.set(new Uint8Array(output));
  return page;
}

function lz4Checked(input: Uint8Array, n: number, hadoop: boolean, decompress: Decompress): Uint8Array {
  const length = lz4Length(input, hadoop);
  if (length !== n) throw new Error(`it holds ${length} bytes`);
  return decompress(input, n);
}

/**
 * A decompressor held to a page's declared size; `check` sees each page once inflated (and may
 * refuse it) before the decoder does.
 */
function capped(codec: CompressionCodec, decompress: Decompress, check?: (input: Uint8Array, page: Uint8Array) => void): Decompress {
  return (input, outputLength) => {
    if (!Number.isSafeInteger(outputLength) || outputLength < 0) throw damaged(`a ${codec} page declares ${outputLength} bytes`);
    if (outputLength > PARQUET_MAX_PAGE_BYTES) throw pageTooLarge(codec, outputLength);
    // A DataPage V2 whose values are all nulls or absent holds no compressed bytes at all (parquet-mr
    // writes such pages): nothing to inflate.
    if (outputLength === 0 && input.length === 0) return new Uint8Array(0);
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
    ZSTD: capped('ZSTD', zstd, check),
    // Both write into a buffer of the declared size, and say nothing of what did not fit: walked first.
    LZ4: capped('LZ4', (input, n) => lz4Checked(input, n, true, decompressLz4), check),
    LZ4_RAW: capped('LZ4_RAW', (input, n) => lz4Checked(input, n, false, decompressLz4Raw), check),
  };
}
