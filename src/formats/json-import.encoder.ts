/**
 * JSON file → COPY text. The file is one array of row objects, in any layout (pretty-printed or
 * not). Keys are built-in fields or schema fields; a missing key or `null` is NULL (or the default
 * for a built-in); an unknown key makes the row invalid.
 */
import { InvalidFileError } from '../errors.js';
import { ImportEncoder, type ImportEncoderOptions } from './import-encoder.js';
import { JsonArraySplitter } from './json-array-splitter.js';
import { objectToSlots } from './json-row.js';

export class JsonImportEncoder extends ImportEncoder {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly splitter = new JsonArraySplitter((text, start, end, line) => this.element(text, start, end, line));
  private readonly slots: unknown[];
  private bytesRead = 0;

  constructor(opts: ImportEncoderOptions) {
    super(opts);
    this.slots = new Array<unknown>(this.plan.names.length).fill(undefined);
  }

  protected consume(chunk: Buffer): void {
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      throw this.notUtf8();
    }
    this.bytesRead += chunk.length;
    this.splitter.write(text);
  }

  protected finish(): void {
    let text: string;
    try {
      text = this.decoder.decode();
    } catch {
      throw this.notUtf8();
    }
    if (text) this.splitter.write(text);
    this.splitter.end();
  }

  private notUtf8(): InvalidFileError {
    return new InvalidFileError(
      `The file is not UTF-8 text (an invalid byte sequence near byte ${this.bytesRead}); JSON files must be UTF-8.`,
    );
  }

  private element(text: string, start: number, end: number, line: number): void {
    this.countRecord();
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(start === 0 && end === text.length ? text : text.slice(start, end)) as Record<string, unknown>;
    } catch (err) {
      throw new InvalidFileError(
        `line ${line}: the object that starts on this line is not valid JSON (${(err as Error).message}).`,
        { line },
      );
    }
    const slots = this.slots;
    const unknown = objectToSlots(obj, this.plan.index, slots);
    if (unknown !== undefined) {
      this.addError(line, unknown, `"${unknown}" is not a field of the table`);
      return;
    }
    const out = this.plan.encode(slots, false, false);
    if (out === undefined) this.addPlanError(line);
    else this.addLine(out);
  }
}
