/**
 * Text the service writes about a user's input (a job's params and errors, a schema, a bundle's
 * per-table outcome) must always be storable, or the job cannot be recorded as ended: PostgreSQL's
 * text and jsonb refuse U+0000, jsonb refuses the `\uD800`-`\uDFFF` escape of a lone surrogate, and
 * text would quietly turn a lone surrogate into U+FFFD. Such characters in user text are written
 * visibly as their escape instead (`foo\u0000bar`), which shows the user what their file held.
 *
 * Row values are another matter: they are refused with a per-row error (see values.ts), never
 * changed, since an import must store exactly what the file says or nothing.
 */

/**
 * An escape of U+0000 or of a surrogate in JSON text, not itself escaped: jsonb refuses these.
 * JSON.stringify writes U+0000 and lone surrogates this way and a well-formed pair as itself, so in
 * its output a match is always something jsonb cannot hold. `\\u0000` (escaped backslash) is text.
 */
export const JSONB_BAD_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/;
const JSONB_BAD_ESCAPES = new RegExp(JSONB_BAD_ESCAPE.source, 'g');

// U+0000, a high surrogate not followed by a low one, a low surrogate not preceded by a high one.
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` with U+0000 and lone surrogates written as `\u0000`, `\udfaa`; anything else as it is. */
export function storableText(s: string): string {
  if (!s.includes('\0') && (s as unknown as { isWellFormed(): boolean }).isWellFormed()) return s;
  return s.replace(UNSTORABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `JSON.stringify(v)` for a jsonb (or text) column: every string in it, keys included, as
 * `storableText` gives it.
 */
export function storableJson(v: unknown): string {
  const text = JSON.stringify(v);
  if (!text.includes('\\u')) return text;
  // One more backslash makes the escape text: `\u0000` becomes `\\u0000`, which reads back as the six characters.
  return text.replace(JSONB_BAD_ESCAPES, (m) => `${m.slice(0, -6)}\\${m.slice(-6)}`);
}
