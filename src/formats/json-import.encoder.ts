/**
 * JSON file → COPY text. The file is one array of row objects, in any layout (pretty-printed or
 * not). Keys are built-in fields or schema fields; a missing key or `null` is NULL (or the default
 * for a built-in); an unknown key makes the row invalid.
 */
import { InvalidFileError } from '../errors.js';
import { ImportEncoder, type ImportEncoderOptions } from './import-encoder.js';
import { StrictUtf8Decoder } from './utf8.js';
import { JsonArraySplitter } from './json-array-splitter.js';

export class JsonImportEncoder extends ImportEncoder {
  private readonly decoder = new StrictUtf8Decoder('JSON files must be UTF-8.', { ignoreBOM: true });
  private readonly splitter = new JsonArraySplitter((text, start, end, line, inChunk) =>
    inChunk ? this.queue(text, start, end, line) : this.parseOne(text, line),
  );
  // Elements found in the current chunk, parsed together by one JSON.parse of the span that holds
  // them: the splitter has checked that only white space and commas lie between them.
  private spanText = '';
  private spanStart = -1;
  private spanEnd = 0;
  private spanLines: number[] = [];
  constructor(opts: ImportEncoderOptions) {
    super(opts);
  }

  protected consume(chunk: Buffer): void {
    const text = this.decoder.decode(chunk);
    this.splitter.write(text);
    this.parseQueued();
  }

  protected finish(): void {
    const text = this.decoder.decode();
    if (text) this.splitter.write(text);
    this.parseQueued();
    this.splitter.end();
  }

  private queue(text: string, start: number, end: number, line: number): void {
    if (this.spanStart < 0) {
      this.spanText = text;
      this.spanStart = start;
    }
    this.spanEnd = end;
    this.spanLines.push(line);
  }

  private parseQueued(): void {
    if (this.spanStart < 0) return;
    const lines = this.spanLines;
    const text = this.spanText.slice(this.spanStart, this.spanEnd);
    this.spanText = '';
    this.spanStart = -1;
    this.spanLines = [];
    let objects: Record<string, unknown>[] | undefined;
    try {
      objects = JSON.parse(lines.length === 1 ? text : `[${text}]`) as Record<string, unknown>[];
    } catch {
      // Some element is invalid: find which one by parsing them one by one (this ends the import).
      objects = undefined;
    }
    if (objects === undefined) {
      const splitter = new JsonArraySplitter((t, s, e, _l, _i) => {
        const line = lines.shift() as number;
        this.parseOne(t.slice(s, e), line);
      });
      splitter.write(`[${text}]`);
      return;
    }
    if (lines.length === 1) {
      this.row(objects as unknown as Record<string, unknown>, lines[0] as number);
      return;
    }
    for (let k = 0; k < objects.length; k++) this.row(objects[k] as Record<string, unknown>, lines[k] as number);
  }

  private parseOne(text: string, line: number): void {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new InvalidFileError(`line ${line}: the object that starts on this line is not valid JSON (${(err as Error).message}).`, {
        line,
      });
    }
    this.row(obj, line);
  }

  private row(obj: unknown, line: number): void {
    this.addObject(obj, line);
  }
}
