/**
 * COPY ... TO STDOUT as a readable stream, parsed per socket chunk rather than per row.
 *
 * pg-copy-streams' CopyToStreamQuery reads each CopyData message (PostgreSQL sends one per row)
 * through an offset-buffer list: a slice, a list push and a join per row. At 1M narrow rows that
 * was a fifth of the export worker's CPU (issue 12's profile), and every ~8 KB socket read became
 * one file write. This subclass keeps the library's submit/attach/detach and its hand-off of an
 * ErrorResponse to pg, and replaces only `_parse`: it walks the 5-byte message headers of a socket
 * chunk and copies the rows' bytes straight into an output buffer of `chunkBytes`, which is pushed
 * when full (and at the end). The bytes are copied once, as before; there are just fewer, larger
 * buffers downstream.
 */
import type { ReadableOptions } from 'node:stream';
import { to as copyTo, type CopyToStreamQuery } from 'pg-copy-streams';

// Protocol message codes (https://www.postgresql.org/docs/current/protocol-message-formats.html).
const COPY_DATA = 0x64; // d
const ERROR_RESPONSE = 0x45; // E
const COPY_OUT_RESPONSE = 0x48; // H
const NOTICE_RESPONSE = 0x4e; // N
const NOTIFICATION_RESPONSE = 0x41; // A
const PARAMETER_STATUS = 0x53; // S
const HEADER_BYTES = 5;

/** Messages that may come between CopyData messages; any other one ends copy-out mode. */
const IN_COPY = new Set([COPY_OUT_RESPONSE, COPY_DATA, NOTICE_RESPONSE, NOTIFICATION_RESPONSE, PARAMETER_STATUS]);

/**
 * The default size of the buffers pushed downstream. Each buffer costs a file write whose CPU on the
 * main thread grows when PostgreSQL keeps the other core busy (~20 µs a call measured there, 7 µs
 * on an idle host); at 1 MiB a 200 MB COPY makes ~200 writes. COPY of 1M narrow rows to a file, CPU
 * of three rounds: 3.0-3.2 s at 64 KiB, 2.5-2.8 s at 256 KiB, 2.3 s at 1 MiB. A few such buffers
 * are in flight at most (each stage's queue holds one), a few MB against the worker's ~150.
 */
export const COPY_CHUNK_BYTES = 1024 * 1024;

/** The library's class, which it exports only through a factory. */
const CopyToBase = Object.getPrototypeOf(copyTo('')).constructor as new (text: string, options?: ReadableOptions) => CopyToStreamQuery;

/** The library's internals this subclass works with (see node_modules/pg-copy-streams/copy-to.js). */
interface LibraryInternals {
  /** Unread protocol bytes, handed to pg's own parser by `_detach`. */
  _buffer: { push(data: Buffer): void } | null;
  _detach(): void;
  _cleanup(): void;
}

export interface CopyToOptions extends ReadableOptions {
  /** Bytes gathered before a buffer is pushed downstream (default COPY_CHUNK_BYTES). */
  chunkBytes?: number;
}

export class CopyToStream extends CopyToBase {
  private readonly chunkBytes: number;
  /** Bytes of a message header split across two socket chunks. */
  private headerTail: Buffer | null = null;
  /** Code of the message being read, and its bytes still to come in later chunks. */
  private code = 0;
  private left = 0;
  /** Whether a message's header has been read and its content not yet all. */
  private reading = false;
  private out: Buffer | null = null;
  private outLength = 0;

  constructor(text: string, options: CopyToOptions = {}) {
    const { chunkBytes, ...readable } = options;
    super(text, readable);
    this.chunkBytes = chunkBytes ?? COPY_CHUNK_BYTES;
  }

  /** Called by the library with each socket chunk; returns false to stop reading (backpressure). */
  _parse(data: Buffer): boolean {
    const self = this as unknown as LibraryInternals;
    let chunk = data;
    if (this.headerTail) {
      chunk = Buffer.concat([this.headerTail, data]);
      this.headerTail = null;
    }
    const end = chunk.length;
    let pos = 0;
    let drained = true;
    let done = false;
    while (pos < end) {
      if (!this.reading) {
        // A new message starts here.
        if (chunk[pos] === ERROR_RESPONSE) {
          // pg reads the error and fails the query: hand it everything from the error on.
          self._buffer?.push(chunk.subarray(pos));
          self._detach();
          return false;
        }
        if (end - pos < HEADER_BYTES) {
          this.headerTail = Buffer.from(chunk.subarray(pos));
          break;
        }
        this.code = chunk[pos] as number;
        this.left = chunk.readUInt32BE(pos + 1) - 4;
        this.reading = true;
        pos += HEADER_BYTES;
      }
      const n = Math.min(this.left, end - pos);
      if (this.code === COPY_DATA && n > 0) drained = this.append(chunk, pos, pos + n) && drained;
      pos += n;
      this.left -= n;
      if (this.left === 0) {
        this.reading = false;
        if (!IN_COPY.has(this.code)) {
          done = true;
          break;
        }
      }
    }
    if (!done) return drained;
    // CopyDone (or whatever ended copy-out mode): what follows (CommandComplete, ReadyForQuery) is pg's.
    this.flush();
    if (pos < end) self._buffer?.push(chunk.subarray(pos));
    self._detach();
    this.push(null);
    self._cleanup();
    // Stop the library's read loop: the connection's bytes are pg's again.
    return false;
  }

  /** Copies `chunk[start, end)` into the output buffer, pushing each buffer that fills. */
  private append(chunk: Buffer, start: number, end: number): boolean {
    let drained = true;
    let from = start;
    while (from < end) {
      if (!this.out) {
        this.out = Buffer.allocUnsafe(this.chunkBytes);
        this.outLength = 0;
      }
      const n = chunk.copy(this.out, this.outLength, from, end);
      this.outLength += n;
      from += n;
      if (this.outLength === this.out.length) drained = this.flush() && drained;
    }
    return drained;
  }

  private flush(): boolean {
    const out = this.out;
    if (!out || this.outLength === 0) return true;
    this.out = null;
    return this.push(this.outLength === out.length ? out : out.subarray(0, this.outLength));
  }
}

/** A COPY TO query for `client.query(...)`. */
export function copyToStream(text: string, options?: CopyToOptions): CopyToStream {
  return new CopyToStream(text, options);
}
