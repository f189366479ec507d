/**
 * Reads a bundle from a byte stream, plain or gzip (told apart by the gzip magic, not a name),
 * as an async sequence of events: each table with its checked schema, its rows in batches, its
 * end. Memory is bounded by one chunk and the limits; the source is pulled only as fast as the
 * consumer takes events, and is destroyed when the consumer stops early or the bundle is refused.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InvalidFileError } from '../errors.js';
import { StrictUtf8Decoder } from '../formats/utf8.js';
import type { BundleEvent, BundleLimits } from './bundle-format.js';
import { BundleParser } from './bundle-parser.js';

export type BundleReaderOptions = Partial<BundleLimits>;

export async function* readBundle(source: Readable, opts: BundleReaderOptions = {}): AsyncGenerator<BundleEvent, void, undefined> {
  const parser = new BundleParser(opts);
  const decoder = new StrictUtf8Decoder('a bundle is UTF-8 JSON.', { ignoreBOM: true });
  for await (const chunk of decompressed(source)) {
    parser.write(decoder.decode(chunk));
    const events = parser.take();
    for (const e of events) yield e;
  }
  parser.write(decoder.decode());
  parser.end();
  for (const e of parser.take()) yield e;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** The source's bytes, gunzipped when they start with the gzip magic. */
async function* decompressed(source: Readable): AsyncGenerator<Buffer, void, undefined> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    let head: Buffer = Buffer.alloc(0);
    let ended = false;
    while (head.length < 2) {
      const next = await it.next();
      if (next.done) {
        ended = true;
        break;
      }
      head = head.length ? Buffer.concat([head, next.value]) : next.value;
    }
    if (head[0] !== GZIP_MAGIC_0 || head[1] !== GZIP_MAGIC_1) {
      if (head.length) yield head;
      if (ended) return;
      for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
      return;
    }
    const gunzip = createGunzip();
    const rest = async function* (): AsyncGenerator<Buffer> {
      yield head;
      if (ended) return;
      for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
    };
    pipeline(rest, gunzip, () => undefined);
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
        throw new InvalidFileError(`The bundle is gzip-compressed but its data is damaged (${e.message ?? e.code}).`);
      }
      throw err;
    } finally {
      gunzip.destroy();
    }
  } finally {
    await it.return?.();
  }
}
