/**
 * Nesting depth of JSON text, found by one byte scan that skips strings. Run before `JSON.parse`
 * so that a body nested thousands of levels deep is refused as a client mistake instead of
 * reaching code that recurses (JSON.stringify, validators) and overflowing the stack.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** True when `text` (JSON, as bytes or a string) nests objects/arrays more than `max` deep. */
export function jsonDeeperThan(text: Uint8Array | string, max: number): boolean {
  const isString = typeof text === 'string';
  const n = text.length;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < n; i++) {
    const c = isString ? text.charCodeAt(i) : (text[i] as number);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}
