/**
 * PostgreSQL COPY text format: one line per row, tab-separated, `\N` for NULL, and a backslash
 * escape for the four characters that would otherwise break a value out of its cell.
 */

export const COPY_NULL = '\\N';

const NEEDS_ESCAPE = /[\\\n\r\t]/;

/** Escapes a value for a COPY text cell. The common case (nothing to escape) allocates nothing. */
export function escapeCopy(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\t', '\\t');
}
