/**
 * Export: passes PostgreSQL's CSV output through unchanged while counting its records. A record
 * ends at a line break outside quotes; quotes toggle the state (a doubled quote toggles twice, so
 * it needs no special case). The header record is not counted.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { RowCountingOptions } from './json-array.transform.js';

export interface CsvRecordCounterOptions extends RowCountingOptions {
  /** Whether the first record is a header (default true): it is not counted. */
  header?: boolean;
}

const LF = 0x0a;
const QUOTE = 0x22;

export class CsvRecordCounter extends Transform {
  private records = 0;
  private inQuotes = false;
  /** The last byte seen was not a record-ending line break. */
  private openRecord = false;
  private readonly header: boolean;
  private readonly onRows: ((rows: number) => void) | undefined;

  constructor(opts: CsvRecordCounterOptions = {}) {
    super();
    this.header = opts.header ?? true;
    this.onRows = opts.onRows;
  }

  /** Data records seen so far (all of them once the stream has ended). */
  get rows(): number {
    return this.header ? Math.max(0, this.records - 1) : this.records;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const n = chunk.length;
    let inQuotes = this.inQuotes;
    let records = this.records;
    let i = 0;
    while (i < n) {
      if (inQuotes) {
        const q = chunk.indexOf(QUOTE, i);
        if (q === -1) {
          i = n;
          break;
        }
        inQuotes = false;
        i = q + 1;
        continue;
      }
      // Outside quotes: the next quote or line break, whichever comes first.
      let j = i;
      for (; j < n; j++) {
        const c = chunk[j];
        if (c === LF || c === QUOTE) break;
      }
      if (j === n) break;
      if (chunk[j] === LF) records++;
      else inQuotes = true;
      i = j + 1;
    }
    if (n) this.openRecord = inQuotes || chunk[n - 1] !== LF;
    this.inQuotes = inQuotes;
    this.records = records;
    this.push(chunk);
    this.onRows?.(this.rows);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.openRecord) {
      this.records++;
      this.openRecord = false;
    }
    this.onRows?.(this.rows);
    cb();
  }
}

export function createCsvRecordCounter(opts: CsvRecordCounterOptions = {}): CsvRecordCounter {
  return new CsvRecordCounter(opts);
}
