/**
 * Export: passes PostgreSQL's CSV output through unchanged and reports an estimate of the rows so
 * far, for the job's progress only. The exact count is the one COPY reports when it completes, and
 * the cap is enforced by the SELECT's `LIMIT`, so no byte needs tokenising here: line breaks are
 * counted (natively, with `indexOf`) over the first `sampleBytes` to learn the bytes per row, then
 * the rows are estimated from the bytes. A line break inside a quoted cell makes the estimate a
 * little high, which is harmless for a progress figure.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { RowCountingOptions } from './json-array.transform.js';

const LF = 0x0a;

export interface CopyProgressOptions extends RowCountingOptions {
  /** Bytes whose line breaks are counted before estimating from the bytes (default 1 MiB). */
  sampleBytes?: number;
}

export class CopyProgress extends Transform {
  private bytes = 0;
  private lines = 0;
  private readonly sampleBytes: number;
  private readonly onRows: ((rows: number) => void) | undefined;

  constructor(opts: CopyProgressOptions = {}) {
    super();
    this.onRows = opts.onRows;
    this.sampleBytes = opts.sampleBytes ?? 1 << 20;
  }

  /** The estimate of rows gone through (never exact: the COPY's own count is). */
  get estimate(): number {
    if (this.bytes <= this.sampleBytes || this.lines === 0) return this.lines;
    return Math.floor((this.bytes * this.lines) / this.sampleBytes);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.bytes < this.sampleBytes) {
      const end = Math.min(chunk.length, this.sampleBytes - this.bytes);
      for (let k = chunk.indexOf(LF); k !== -1 && k < end; k = chunk.indexOf(LF, k + 1)) this.lines++;
    }
    this.bytes += chunk.length;
    this.onRows?.(this.estimate);
    cb(null, chunk);
  }
}
