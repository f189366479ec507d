/**
 * Export: PostgreSQL's `row_to_json` lines → row objects, for the formats that write rows
 * themselves (Parquet's JavaScript writer). Counts rows as they go; readable side in objectMode, so the
 * writer's backpressure reaches PostgreSQL's COPY.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { RowCountingOptions } from './json-array.transform.js';

export class JsonLinesToRows extends Transform {
  private count = 0;
  private carry = '';
  private readonly decoder = new StringDecoder('utf8');
  private readonly onRows: ((rows: number) => void) | undefined;

  constructor(opts: RowCountingOptions = {}) {
    super({ readableObjectMode: true, readableHighWaterMark: 256 });
    this.onRows = opts.onRows;
  }

  get rows(): number {
    return this.count;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      const text = this.decoder.write(chunk);
      // A long row takes chunks whole until its end comes: searching it again with each was quadratic.
      if (!text.includes('\n')) {
        this.carry += text;
        cb();
        return;
      }
      this.lines(this.carry + text);
      this.onRows?.(this.count);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.lines(`${this.carry}${this.decoder.end()}\n`);
      this.onRows?.(this.count);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private lines(s: string): void {
    let from = 0;
    for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', from)) {
      if (nl > from) {
        this.count++;
        this.push(JSON.parse(s.slice(from, nl)));
      }
      from = nl + 1;
    }
    this.carry = s.slice(from);
  }
}
