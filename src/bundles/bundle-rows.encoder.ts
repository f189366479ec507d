/**
 * A bundle table's rows (objects from the bundle reader) → COPY text. A bundle is tableport's own
 * backup of tables, written by its export: every value must already have its column's JSON type,
 * as in the records API, so a restore is exact; the file rules that take a number into a text
 * column (for files people make) do not apply. Problems name the bundle's line; the caller adds
 * the table.
 */
import type { TransformCallback } from 'node:stream';
import { ImportEncoder, type ImportEncoderOptions } from '../formats/import-encoder.js';
import type { BundleRow } from './bundle-format.js';

export class BundleRowsEncoder extends ImportEncoder {
  constructor(opts: ImportEncoderOptions) {
    super({ ...opts, fileValues: false }, { writableObjectMode: true });
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
