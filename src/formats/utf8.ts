/** UTF-8 helpers for checking file bytes that arrive in arbitrary chunks. */
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { InvalidFileError } from '../errors.js';

/**
 * How many bytes at the end of `buf` are the start of a multi-byte character that the next chunk
 * completes (0 if the buffer ends on a character boundary).
 */
export function incompleteTail(buf: Uint8Array): number {
  const n = buf.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = buf[n - back] as number;
    if (b < 0x80) return 0; // ASCII: boundary
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return need > back ? back : 0;
    }
    // a continuation byte: keep looking back for its lead byte
  }
  return 0;
}

/** Whether `buf` is valid UTF-8, not counting a character cut off at its end. */
export function isUtf8Head(buf: Uint8Array): boolean {
  return isUtf8(buf.subarray(0, buf.length - incompleteTail(buf)));
}

/**
 * Strict UTF-8 decoding of a file that arrives in chunks: a character split across chunks is
 * joined, and an invalid byte is an InvalidFileError that says roughly where.
 */
export class StrictUtf8Decoder {
  private readonly decoder: TextDecoder;
  private bytesRead = 0;

  constructor(
    private readonly advice: string,
    opts: { ignoreBOM?: boolean } = {},
  ) {
    this.decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: opts.ignoreBOM ?? false });
  }

  /** The text of `chunk`, or without one, whatever an unfinished character left at the end. */
  decode(chunk?: Buffer): string {
    try {
      const text = chunk ? this.decoder.decode(chunk, { stream: true }) : this.decoder.decode();
      if (chunk) this.bytesRead += chunk.length;
      return text;
    } catch {
      throw new InvalidFileError(`The file is not UTF-8 text (an invalid byte sequence near byte ${this.bytesRead}); ${this.advice}`);
    }
  }
}
