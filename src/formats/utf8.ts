/** UTF-8 helpers for checking file bytes that arrive in arbitrary chunks. */
import { isUtf8 } from 'node:buffer';

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
