/**
 * JSON file → COPY text. The file is one array of row objects, in any layout (pretty-printed or
 * not). Keys are built-in fields or schema fields; a missing key or `null` is NULL (or the default
 * for a built-in); an unknown key makes the row invalid.
 */
import { InvalidFileError } from '../errors.js';
import { ImportEncoder, type ImportEncoderOptions } from './import-encoder.js';
import { jsonArrayLimits, JsonArraySplitter, type ElementHandler } from './json/json-array-splitter.js';
import { JsonElementBatch } from './json/json-element-batch.js';
import type { ImportFileOptions } from './format.js';
import { StrictTextDecoder, UTF8 } from './text-encoding.js';

export class JsonImportEncoder extends ImportEncoder {
  private readonly decoder: StrictTextDecoder;
  private readonly batch = new JsonElementBatch(
    (obj, line) => this.addObject(obj, line),
    (line, reason) => new InvalidFileError(`line ${line}: the object that starts on this line is not valid JSON (${reason}).`, { line }),
  );
  private readonly splitter: JsonArraySplitter;

  constructor(opts: ImportEncoderOptions & ImportFileOptions) {
    super(opts);
    const take: ElementHandler = (text, start, end, line, inChunk) => this.batch.take(text, start, end, line, inChunk);
    this.splitter = new JsonArraySplitter(take, jsonArrayLimits(opts.limits));
    this.decoder = new StrictTextDecoder(opts.encoding ?? UTF8, 'JSON files must be UTF-8.', { keepBOM: true });
  }

  protected consume(chunk: Buffer): void {
    this.splitter.write(this.decoder.decode(chunk));
    this.batch.flush();
  }

  protected finish(): void {
    const text = this.decoder.decode();
    if (text) this.splitter.write(text);
    this.batch.flush();
    this.splitter.end();
  }
}
