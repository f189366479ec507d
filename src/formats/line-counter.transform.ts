/**
 * Export: passes PostgreSQL's `row_to_json` lines through unchanged (that is NDJSON already) while
 * counting them. JSON text never holds a raw line break, so every LF ends a row.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { RowCountingOptions } from './json-array.transform.js';

const LF = 0x0a;

export class LineCounter extends Transform {
  private count = 0;
  private openLine = false;
  private readonly onRows: ((rows: number) => void) | undefined;

  constructor(opts: RowCountingOptions = {}) {
    super();
    this.onRows = opts.onRows;
  }

  get rows(): number {
    return this.count;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    for (let k = chunk.indexOf(LF); k !== -1; k = chunk.indexOf(LF, k + 1)) this.count++;
    if (chunk.length) this.openLine = chunk[chunk.length - 1] !== LF;
    this.onRows?.(this.count);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.openLine) {
      this.count++;
      this.push('\n');
    }
    this.onRows?.(this.count);
    cb();
  }
}
