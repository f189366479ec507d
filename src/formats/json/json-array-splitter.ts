/**
 * The grammar of a JSON import file: one top-level array of row objects, in any layout. Hands on
 * each object's source text as the scanner finds it, holding at most one object (and one chunk);
 * `JSON.parse` validates each later. Everything else is refused with `invalid_file` and the line.
 */
import { InvalidFileError, InvalidRowError } from '../../errors.js';
import { DEFAULT_VALUE_LIMITS, type ValueLimits } from '../values.js';
import { describeChar, JsonScanner } from './json-scanner.js';

const BEFORE_ARRAY = 0;
const FIRST = 1; // after '[': an element or ']'
const NEXT = 2; // after ',': an element
const IN_ELEMENT = 3;
const AFTER = 4; // after an element: ',' or ']'
const DONE = 5;

const LBRACE = 0x7b;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;

/**
 * No element (row object) may grow beyond this many characters: four cells at the cell cap
 * (`MAX_CELL_BYTES`).
 */
export function maxElementChars(limits: ValueLimits = DEFAULT_VALUE_LIMITS): number {
  return 4 * limits.maxCellBytes;
}

/** The splitter's limits under MAX_CELL_BYTES and MAX_JSON_DEPTH. */
export function jsonArrayLimits(limits: ValueLimits = DEFAULT_VALUE_LIMITS): JsonArrayLimits {
  return { maxElementChars: maxElementChars(limits), maxDepth: limits.maxJsonDepth };
}

export interface JsonArrayLimits {
  /** Characters of one element; default `maxElementChars()`. */
  maxElementChars: number;
  /** Nesting of the values in an element below the element itself; default `MAX_JSON_DEPTH`. */
  maxDepth: number;
}

/**
 * Called with text holding a complete element in [start, end) and the line it starts on. `inChunk`
 * says `text` is the very string given to `write` (not an element joined from several chunks).
 */
export type ElementHandler = (text: string, start: number, end: number, line: number, inChunk: boolean) => void;

export class JsonArraySplitter extends JsonScanner {
  private phase = BEFORE_ARRAY;
  private elements = 0;
  private readonly maxChars: number;
  private readonly maxDepth: number;

  constructor(
    private readonly onElement: ElementHandler,
    limits: Partial<JsonArrayLimits> = {},
  ) {
    super();
    this.maxChars = limits.maxElementChars ?? maxElementChars();
    this.maxDepth = limits.maxDepth ?? DEFAULT_VALUE_LIMITS.maxJsonDepth;
  }

  /** Ends the input: throws unless the array was closed. */
  end(): void {
    if (this.phase === DONE) return;
    if (this.phase === BEFORE_ARRAY) throw new InvalidFileError('The file is empty: it holds no JSON array.');
    const line = this.phase === IN_ELEMENT ? this.valueLine : this.line;
    throw new InvalidFileError(
      this.phase === IN_ELEMENT
        ? `line ${line}: the file ends inside the object that starts on this line.`
        : `line ${line}: the file ends before the array's closing "]".`,
      { line },
    );
  }

  protected onToken(c: number, line: number): void {
    const phase = this.phase;
    if (phase === AFTER) {
      if (c === COMMA) this.phase = NEXT;
      else if (c === RBRACKET) this.phase = DONE;
      else {
        throw new InvalidFileError(
          `line ${line}: expected "," or "]" after element ${this.elements} of the array, got ${describeChar(c)}.`,
          {
            line,
          },
        );
      }
    } else if (phase === FIRST || phase === NEXT) {
      if (c === LBRACE) {
        this.phase = IN_ELEMENT;
        // The row object is level 1; its values may nest maxDepth levels below it.
        this.capture(this.maxChars, this.maxDepth + 1);
      } else if (c === RBRACKET && phase === FIRST) {
        this.phase = DONE;
      } else if (c === RBRACKET) {
        throw new InvalidFileError(`line ${line}: a comma before the array's closing "]" is not valid JSON.`, { line });
      } else {
        throw new InvalidFileError(
          `line ${line}: element ${this.elements + 1} of the array is not an object (it starts with ${describeChar(c)}); every element must be a row object.`,
          { line },
        );
      }
    } else if (phase === BEFORE_ARRAY) {
      if (c !== LBRACKET) {
        throw new InvalidFileError(
          `line ${line}: the file must hold one JSON array of row objects, but it starts with ${describeChar(c)}.`,
          {
            line,
          },
        );
      }
      this.phase = FIRST;
    } else {
      throw new InvalidFileError(`line ${line}: the file goes on after the array's closing "]".`, { line });
    }
  }

  protected onValue(text: string, start: number, end: number, line: number, inChunk: boolean): void {
    this.phase = AFTER;
    this.elements++;
    this.onElement(text, start, end, line, inChunk);
  }

  protected tooDeep(line: number, valueLine: number): Error {
    return new InvalidFileError(
      `line ${line}: the object that starts on line ${valueLine} is nested more than ${this.maxDepth} levels deep (MAX_JSON_DEPTH).`,
      { line: valueLine },
    );
  }

  protected tooLarge(valueLine: number): Error {
    return new InvalidRowError(
      valueLine,
      undefined,
      `the object starting on this line is larger than the limit of ${this.maxChars} bytes for one row (4 × MAX_CELL_BYTES), or never ends.`,
    );
  }
}
