/**
 * Splits a JSON document whose top level is an array of objects into the objects' source text,
 * piece by piece of decoded text, without holding more than one element. It tracks only what it
 * needs (string and escape state, nesting depth, line breaks); `JSON.parse` then validates each
 * element. Chosen over stream-json, whose parser alone ran at 50k rows/s here.
 */
import { InvalidFileError, InvalidRowError } from '../errors.js';
import { valueLimits } from './values.js';

const BEFORE_ARRAY = 0;
const FIRST = 1; // after '[': an element or ']'
const NEXT = 2; // after ',': an element
const IN_ELEMENT = 3;
const AFTER = 4; // after an element: ',' or ']'
const DONE = 5;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;

/**
 * No element (row object) may grow beyond this many characters: four cells at the cell cap
 * (`MAX_CELL_BYTES`). Checked after each chunk, so an element never holds more than this plus one chunk.
 */
export function maxElementChars(): number {
  return 4 * valueLimits.maxCellBytes;
}

/**
 * Called with text holding a complete element in [start, end) and the line it starts on. `inChunk`
 * says `text` is the very string given to `write` (not an element joined from several chunks).
 */
export type ElementHandler = (text: string, start: number, end: number, line: number, inChunk: boolean) => void;

export class JsonArraySplitter {
  private phase = BEFORE_ARRAY;
  private line = 1;
  private elementLine = 1;
  private elements = 0;
  private depth = 0;
  private inString = false;
  private escape = false;
  /** Earlier parts of an element that spans chunks. */
  private parts = '';
  private started = false;

  constructor(private readonly onElement: ElementHandler) {}

  write(buf: string): void {
    let i = 0;
    if (!this.started) {
      if (buf.length === 0) return;
      this.started = true;
      if (buf.charCodeAt(0) === 0xfeff) i = 1;
    }
    const n = buf.length;
    let line = this.line;
    let start = 0;
    while (i < n) {
      const phase = this.phase;
      if (phase === IN_ELEMENT) {
        let depth = this.depth;
        let inString = this.inString;
        let escaped = this.escape;
        let j = i;
        for (; j < n; j++) {
          const c = buf.charCodeAt(j);
          if (inString) {
            if (escaped) escaped = false;
            else if (c === BACKSLASH) escaped = true;
            else if (c === QUOTE) inString = false;
          } else if (c === QUOTE) inString = true;
          else if (c === LBRACE || c === LBRACKET) {
            // The row object is level 1; its values may nest MAX_JSON_DEPTH levels below it.
            if (++depth > valueLimits.maxJsonDepth + 1) {
              throw new InvalidFileError(
                `line ${line}: the object that starts on line ${this.elementLine} is nested more than ${valueLimits.maxJsonDepth} levels deep (MAX_JSON_DEPTH).`,
                { line: this.elementLine },
              );
            }
          } else if (c === RBRACE || c === RBRACKET) {
            if (--depth === 0) break;
          } else if (c === LF) line++;
        }
        this.inString = inString;
        this.escape = escaped;
        this.depth = depth;
        if (j === n) {
          this.keep(buf.slice(start, n));
          i = n;
          break;
        }
        i = j + 1;
        this.phase = AFTER;
        this.elements++;
        if (this.parts.length) {
          const whole = this.parts + buf.slice(start, i);
          this.parts = '';
          this.onElement(whole, 0, whole.length, this.elementLine, false);
        } else {
          this.onElement(buf, start, i, this.elementLine, true);
        }
        continue;
      }

      const c = buf.charCodeAt(i);
      if (c === SPACE || c === LF || c === CR || c === TAB) {
        if (c === LF) line++;
        i++;
        continue;
      }
      if (phase === BEFORE_ARRAY) {
        if (c !== LBRACKET) {
          throw new InvalidFileError(`line ${line}: the file must hold one JSON array of row objects, but it starts with ${describe(c)}.`, {
            line,
          });
        }
        this.phase = FIRST;
        i++;
      } else if (phase === FIRST || phase === NEXT) {
        if (c === LBRACE) {
          this.phase = IN_ELEMENT;
          this.depth = 0;
          this.elementLine = line;
          start = i;
        } else if (c === RBRACKET && phase === FIRST) {
          this.phase = DONE;
          i++;
        } else if (c === RBRACKET) {
          throw new InvalidFileError(`line ${line}: a comma before the array's closing "]" is not valid JSON.`, { line });
        } else {
          throw new InvalidFileError(
            `line ${line}: element ${this.elements + 1} of the array is not an object (it starts with ${describe(c)}); every element must be a row object.`,
            { line },
          );
        }
      } else if (phase === AFTER) {
        if (c === COMMA) this.phase = NEXT;
        else if (c === RBRACKET) this.phase = DONE;
        else {
          throw new InvalidFileError(`line ${line}: expected "," or "]" after element ${this.elements} of the array, got ${describe(c)}.`, {
            line,
          });
        }
        i++;
      } else {
        throw new InvalidFileError(`line ${line}: the file goes on after the array's closing "]".`, { line });
      }
    }
    this.line = line;
  }

  end(): void {
    if (this.phase === DONE) return;
    if (this.phase === BEFORE_ARRAY) throw new InvalidFileError('The file is empty: it holds no JSON array.');
    const line = this.phase === IN_ELEMENT ? this.elementLine : this.line;
    throw new InvalidFileError(
      this.phase === IN_ELEMENT
        ? `line ${line}: the file ends inside the object that starts on this line.`
        : `line ${line}: the file ends before the array's closing "]".`,
      { line },
    );
  }

  private keep(part: string): void {
    this.parts += part;
    if (this.parts.length > maxElementChars()) {
      this.parts = '';
      throw new InvalidRowError(
        this.elementLine,
        undefined,
        `the object starting on this line is larger than the limit of ${maxElementChars()} bytes for one row (4 × MAX_CELL_BYTES), or never ends.`,
      );
    }
  }
}

function describe(c: number): string {
  if (c > 0x20 && c !== 0x7f) return JSON.stringify(String.fromCharCode(c));
  return `the character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}
