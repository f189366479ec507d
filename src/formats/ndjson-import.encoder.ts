/**
 * NDJSON (JSON Lines) file → COPY text: one JSON object per line, blank lines skipped. Each line
 * stands alone, so a line that is not valid JSON is one bad row among the others (reported with
 * all of them), not the end of the file.
 */
import { InvalidFileError } from '../errors.js';
import { ImportEncoder, type ImportEncoderOptions } from './import-encoder.js';
import { maxElementChars } from './json/json-array-splitter.js';
import type { ImportFileOptions } from './format.js';
import { StrictTextDecoder, UTF8 } from './text-encoding.js';

export class NdjsonImportEncoder extends ImportEncoder {
  private readonly decoder: StrictTextDecoder;
  /** The start of a line that the next chunk completes. */
  private carry = '';
  /** The line the carried text (or the next line) starts on. */
  private line = 1;

  /** 4 × MAX_CELL_BYTES. */
  private readonly maxLineChars: number;

  constructor(opts: ImportEncoderOptions & ImportFileOptions) {
    super(opts);
    this.maxLineChars = maxElementChars(opts.limits);
    this.decoder = new StrictTextDecoder(opts.encoding ?? UTF8, 'NDJSON files must be UTF-8.');
  }

  protected consume(chunk: Buffer): void {
    this.lines(this.decoder.decode(chunk), false);
  }

  protected finish(): void {
    this.lines(this.decoder.decode(), true);
  }

  private lines(text: string, last: boolean): void {
    // A line still open takes the chunk whole until one brings its end: searching the carry again
    // with every chunk was quadratic in the line's length.
    if (!last && this.carry !== '' && !text.includes('\n')) {
      this.carry += text;
      this.checkCarry();
      return;
    }
    let from = 0;
    let s = text;
    if (this.carry !== '') {
      s = this.carry + text;
      this.carry = '';
    }
    for (;;) {
      const nl = s.indexOf('\n', from);
      if (nl === -1) break;
      this.one(s, from, nl);
      from = nl + 1;
      this.line++;
    }
    if (last) {
      if (from < s.length) this.one(s, from, s.length);
      return;
    }
    this.carry = s.slice(from);
    this.checkCarry();
  }

  private checkCarry(): void {
    if (this.carry.length > this.maxLineChars) {
      throw new InvalidFileError(
        `line ${this.line}: a line is longer than the limit of ${this.maxLineChars} characters for one row (4 × MAX_CELL_BYTES); the file is not NDJSON.`,
        {
          line: this.line,
        },
      );
    }
  }

  private one(s: string, start: number, end: number): void {
    // Blank lines (and the \r of a CRLF line ending) carry no row.
    let i = start;
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    if (i === end) return;
    let obj: unknown;
    try {
      obj = JSON.parse(s.slice(start, end));
    } catch (err) {
      this.countRecord();
      this.addRowError(this.line, `not valid JSON (${(err as Error).message}); NDJSON needs one whole object per line`);
      return;
    }
    this.addObject(obj, this.line);
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a || c === 0xfeff;
}
