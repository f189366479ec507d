/**
 * A bundle table's rows (objects from the bundle reader) → COPY text, with the very rules of a
 * JSON file import: the rows are JSON, so no coercion (unlike the Parquet/xlsx objects encoder).
 * Problems name the bundle's line; the caller adds the table.
 */
import type { TransformCallback } from 'node:stream';
import { ImportEncoder, type ImportEncoderOptions } from '../formats/import-encoder.js';
import type { BundleRow } from './bundle-format.js';

export class BundleRowsEncoder extends ImportEncoder {
  constructor(opts: ImportEncoderOptions) {
    super(opts, { writableObjectMode: true });
  }

  override _transform(chunk: unknown, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      const { row, line } = chunk as BundleRow;
      this.addObject(row, line);
      if (this.records % 1000 === 0) this.onRowsNow();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  protected consume(): void {}
  protected finish(): void {}
}
