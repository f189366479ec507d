/**
 * The one streaming JSON scanner: decoded text in, in chunks of any size; out, the punctuation
 * between values and, for each value its grammar asks for, that value's source text whole. A
 * grammar (the JSON import's array of rows, the bundle's envelope) extends it: it sees every
 * character outside the values it captures and says which values to capture, with caps on their
 * length and nesting. `JSON.parse` validates captured text later, many values at once.
 *
 * Why hand-written: stream-json's parser alone read a JSON import at 50k rows/s and a bundle at
 * 15-24k rows/s here, this scanner several times that, and stream-json's README says it is not made
 * for hostile input. Only what must be tracked is (nesting, strings, escapes, line breaks): a
 * `charCodeAt` loop outside strings, `indexOf` for a string's closing quote (most of a row's text is
 * strings), so each character is looked at once, a backslash before a quote twice. Nothing is
 * scanned again: a value that spans chunks is kept as its parts and joined when it ends, so memory
 * is bounded by the value cap plus one chunk. Line breaks are counted outside strings (one inside a
 * string is not valid JSON, and `JSON.parse` says so).
 */

const BOM = 0xfeff;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

// What kind of value is being captured.
const CONTAINER = 1;
const STRING = 2;
const SCALAR = 3; // a number, true, false or null: ends at the next delimiter

export abstract class JsonScanner {
  /** The line (1-based) of the last character the scanner has passed. */
  protected line = 1;
  private started = false;

  // The value being captured.
  private capturing = false;
  private capKind = 0;
  private capDepth = 0;
  private capInString = false;
  private capEscape = false;
  private capLine = 1;
  private capMaxChars = 0;
  private capMaxDepth = 0;
  /** Characters of the value in earlier chunks. */
  private capChars = 0;
  /** The value's text from earlier chunks, when it spans them. */
  private capParts: string[] = [];

  /**
   * A character outside any captured value that is not white space, on `line`. The grammar either
   * takes it as punctuation or calls `capture()` to have the value that starts with it captured.
   */
  protected abstract onToken(c: number, line: number): void;

  /**
   * A captured value, whole, in `text` [start, end), starting on `line`. `inChunk` says `text` is
   * the very string given to `write` (so several values of one chunk can be parsed together);
   * otherwise it is the value alone, joined from the chunks it spanned.
   */
  protected abstract onValue(text: string, start: number, end: number, line: number, inChunk: boolean): void;

  /** The error for a captured value nested deeper than its cap: met on `line`, the value starting on `valueLine`. */
  protected abstract tooDeep(line: number, valueLine: number): Error;

  /** The error for a captured value longer than its cap (or one that never ends), starting on `valueLine`. */
  protected abstract tooLarge(valueLine: number): Error;

  /**
   * Called from `onToken`: the value that starts with that character is captured and handed to
   * `onValue`. It may hold at most `maxChars` characters and nest `maxDepth` objects and arrays
   * (the value itself being 1).
   */
  protected capture(maxChars: number, maxDepth: number): void {
    this.capturing = true;
    this.capLine = this.line;
    this.capMaxChars = maxChars;
    this.capMaxDepth = maxDepth;
    this.capDepth = 0;
    this.capInString = false;
    this.capEscape = false;
    this.capChars = 0;
  }

  /** Whether the text so far ends inside a captured value. */
  protected get inValue(): boolean {
    return this.capturing;
  }

  /** The line the value being captured (or the last one captured) starts on. */
  protected get valueLine(): number {
    return this.capLine;
  }

  /** Scans the next piece of text. A byte order mark at the very start is skipped. */
  write(text: string): void {
    const n = text.length;
    let i = 0;
    if (!this.started) {
      if (n === 0) return;
      this.started = true;
      if (text.charCodeAt(0) === BOM) i = 1;
    }
    while (i < n) {
      if (this.capturing) {
        i = this.captureFrom(text, i);
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === SPACE || c === LF || c === CR || c === TAB) {
        if (c === LF) this.line++;
        i++;
        continue;
      }
      this.onToken(c, this.line);
      if (this.capturing) this.capKind = c === LBRACE || c === LBRACKET ? CONTAINER : c === QUOTE ? STRING : SCALAR;
      else i++;
    }
  }

  /** Scans the captured value from `from`; returns where scanning stopped. */
  private captureFrom(text: string, from: number): number {
    const n = text.length;
    let j: number;
    let done: boolean;
    const kind = this.capKind;
    if (kind === CONTAINER) {
      j = this.containerEnd(text, from);
      done = j !== -1;
      if (!done) j = n;
    } else if (kind === STRING) {
      // The first character is the opening quote.
      const q = this.capInString ? this.closingQuote(text, this.capEscape ? from : from - 1) : this.closingQuote(text, from);
      this.capInString = true;
      done = q !== -1;
      j = done ? q + 1 : n;
    } else {
      for (j = from; j < n; j++) {
        const c = text.charCodeAt(j);
        if (c === COMMA || c === RBRACE || c === RBRACKET || c === SPACE || c === LF || c === CR || c === TAB) break;
      }
      done = j < n;
    }

    const chars = this.capChars + (j - from);
    if (chars > this.capMaxChars) {
      this.capParts = [];
      throw this.tooLarge(this.capLine);
    }
    if (!done) {
      this.capChars = chars;
      if (j > from) this.capParts.push(text.slice(from, j));
      return j;
    }
    this.capturing = false;
    if (this.capParts.length === 0) {
      this.onValue(text, from, j, this.capLine, true);
    } else {
      this.capParts.push(text.slice(from, j));
      const whole = this.capParts.join('');
      this.capParts = [];
      this.onValue(whole, 0, whole.length, this.capLine, false);
    }
    return j;
  }

  /**
   * The index after the object or array being captured, scanning from `from`, or -1 when it goes
   * on in the next chunk.
   */
  private containerEnd(text: string, from: number): number {
    const n = text.length;
    let j = from;
    if (this.capInString) {
      const q = this.closingQuote(text, this.capEscape ? from : from - 1);
      if (q === -1) return -1;
      this.capInString = false;
      j = q + 1;
    }
    let depth = this.capDepth;
    let line = this.line;
    const max = this.capMaxDepth;
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) {
        // Inside a string only its closing quote matters: found by indexOf, not a loop in JavaScript.
        const q = this.closingQuote(text, j);
        if (q === -1) {
          this.capInString = true;
          break;
        }
        j = q;
      } else if (c === LBRACE || c === LBRACKET) {
        if (++depth > max) {
          this.line = line;
          throw this.tooDeep(line, this.capLine);
        }
      } else if (c === RBRACE || c === RBRACKET) {
        if (--depth === 0) {
          this.line = line;
          return j + 1;
        }
      } else if (c === LF) line++;
    }
    this.line = line;
    this.capDepth = depth;
    return -1;
  }

  /**
   * The index of the quote that closes a string whose text starts after `open`, or -1 when the
   * string goes past the end of `text`; then `capEscape` says whether `text` ends inside an escape
   * (an odd run of backslashes), so the next chunk's first character is escaped. A quote closes
   * the string when an even run of backslashes precedes it.
   */
  private closingQuote(text: string, open: number): number {
    this.capEscape = false;
    let q = text.indexOf('"', open + 1);
    while (q !== -1) {
      let b = q - 1;
      while (b > open && text.charCodeAt(b) === BACKSLASH) b--;
      if (((q - 1 - b) & 1) === 0) return q;
      q = text.indexOf('"', q + 1);
    }
    const last = text.length - 1;
    let b = last;
    while (b > open && text.charCodeAt(b) === BACKSLASH) b--;
    this.capEscape = ((last - b) & 1) === 1;
    return -1;
  }
}

/** A character as a message names it: printable ones quoted, others by code point. */
export function describeChar(c: number): string {
  if (c > 0x20 && c !== 0x7f) return JSON.stringify(String.fromCharCode(c));
  return `the character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}
