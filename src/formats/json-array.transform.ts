/**
 * Export: turns PostgreSQL's one-JSON-object-per-line output (`COPY (SELECT row_to_json(r) …) TO
 * STDOUT` in CSV mode with quote and delimiter set to bytes JSON never contains) into one JSON
 * array: `[\n` + the objects joined by `,\n` + `\n]\n`, or `[]\n` for no rows. Works on the
 * buffers with indexOf; a line break is held back until the next byte shows whether another row
 * follows it.
 */
import { Transform, type TransformCallback } from 'node:stream';

export interface RowCountingOptions {
  /** Called once per chunk with the number of rows seen so far, and once at the end. */
  onRows?: (rows: number) => void;
}

const OPEN = Buffer.from('[\n');
const SEPARATOR = Buffer.from(',\n');
const CLOSE = Buffer.from('\n]\n');
const EMPTY = Buffer.from('[]\n');
const LF = 0x0a;

export class JsonArrayTransform extends Transform {
  private count = 0;
  /** Bytes of a row have been written (not only its line break is pending). */
  private started = false;
  /** A row's line break was read and not written yet. */
  private pendingBreak = false;
  /** The current row has bytes not yet terminated by a line break. */
  private openRow = false;
  private readonly onRows: ((rows: number) => void) | undefined;

  constructor(opts: RowCountingOptions = {}) {
    super();
    this.onRows = opts.onRows;
  }

  /** Rows seen so far (all of them once the stream has ended). */
  get rows(): number {
    return this.count;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const n = chunk.length;
    if (n === 0) {
      cb();
      return;
    }
    // Count line breaks first to size the output: each one that is not at the end of the chunk
    // becomes ",\n" (one byte more).
    let breaks = 0;
    for (let k = chunk.indexOf(LF); k !== -1; k = chunk.indexOf(LF, k + 1)) breaks++;
    const endsWithBreak = chunk[n - 1] === LF;
    const inner = endsWithBreak ? breaks - 1 : breaks;
    const prefix = !this.started ? OPEN : this.pendingBreak ? SEPARATOR : undefined;
    const out = Buffer.allocUnsafe((prefix?.length ?? 0) + n + inner - (endsWithBreak ? 1 : 0));
    let o = 0;
    if (prefix) o += prefix.copy(out, 0);
    let from = 0;
    for (let seen = 0; seen < inner; seen++) {
      const k = chunk.indexOf(LF, from);
      o += chunk.copy(out, o, from, k);
      out[o++] = 0x2c;
      out[o++] = LF;
      from = k + 1;
    }
    o += chunk.copy(out, o, from, endsWithBreak ? n - 1 : n);
    this.started = true;
    this.pendingBreak = endsWithBreak;
    this.openRow = !endsWithBreak;
    this.count += breaks;
    this.push(out);
    this.onRows?.(this.count);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.openRow) this.count++; // a last row without its line break
    this.push(this.started ? CLOSE : EMPTY);
    this.onRows?.(this.count);
    cb();
  }
}

export function createJsonArrayTransform(opts: RowCountingOptions = {}): JsonArrayTransform {
  return new JsonArrayTransform(opts);
}
