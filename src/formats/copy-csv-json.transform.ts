/**
 * Export: PostgreSQL's CSV output of an export's SELECT (no header, `,` delimiter) rewritten as the
 * very lines `COPY (SELECT row_to_json(r) …)` writes: one JSON object per row and line, keys in
 * column order, byte for byte. PostgreSQL's CSV writer is about twice as fast as its row_to_json, and
 * this rewrite runs on the other core while the next rows are read, so a JSON export costs about what
 * a CSV export does.
 *
 * Values by column type, as row_to_json writes them:
 * - `string` and `date` (ISO text from to_char): a JSON string, escaped as PostgreSQL's escape_json
 *   does (`"` `\` and the control characters; \b \f \n \r \t by name, the others as \u00xx);
 * - `integer` and `number`: the text as it is (float8out's shortest form in both), except NaN and
 *   ±Infinity, which row_to_json writes as strings;
 * - `boolean` (`true`/`false` from ::text), `array` and `object` (jsonb's text): as they are;
 * - NULL (an empty unquoted field; an empty string is `""`): `null`.
 * Works on bytes with one pass and one output buffer per chunk; a value may span chunks.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { ExportColumn } from './format.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const BACKSLASH = 0x5c;

/** How a column's text becomes JSON. */
const RAW = 0;
const TEXT = 1;
const NUMBER = 2;

/** A field's parse state. */
const START = 0;
/** Inside an unquoted field. */
const BARE = 1;
/** Inside a quoted field. */
const QUOTED = 2;
/** A `"` in a quoted field: either `""` (a quote) or the end of the field. */
const QUOTED_QUOTE = 3;
/** A number field that began with `-`, held until the next byte tells -Infinity from a number. */
const MINUS = 4;

/** The JSON escape of each byte below 0x20, and of `"` and `\`; empty for bytes copied as they are. */
const ESCAPES: Buffer[] = Array.from({ length: 256 }, (_, b) => {
  if (b === QUOTE) return Buffer.from('\\"');
  if (b === BACKSLASH) return Buffer.from('\\\\');
  if (b >= 0x20) return Buffer.alloc(0);
  const named: Record<number, string> = { 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t' };
  return Buffer.from(named[b] ?? `\\u${b.toString(16).padStart(4, '0')}`);
});
const NEEDS_ESCAPE = new Uint8Array(256).map((_, b) => (ESCAPES[b]?.length ? 1 : 0));

/** `out` with room for `more` bytes after `o`. */
function grown(out: Buffer, o: number, more: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(out.length * 2, o + more));
  out.copy(next, 0, 0, o);
  return next;
}

function kindOf(c: ExportColumn): number {
  if (c.type === 'string' || c.type === 'date') return TEXT;
  if (c.type === 'number' || c.type === 'integer') return NUMBER;
  return RAW;
}

export interface CopyCsvToJsonOptions {
  /** The SELECT's columns, in order. */
  columns: readonly ExportColumn[];
}

export class CopyCsvToJsonLines extends Transform {
  private readonly kinds: Uint8Array;
  /** `{"name":` for the first column, `,"name":` for the others. */
  private readonly keys: Buffer[];
  private col = 0;
  private state = START;
  /** The current field is a NaN or ±Infinity of a number column, written as a string. */
  private quotedNumber = false;

  constructor(opts: CopyCsvToJsonOptions) {
    super();
    if (opts.columns.length === 0) throw new Error('an export has at least one column');
    this.kinds = Uint8Array.from(opts.columns.map(kindOf));
    this.keys = opts.columns.map((c, i) => Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(c.name)}:`));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    // One function with its state in locals, bytes written one by one: closures over the output
    // position, or small Buffer.copy calls, cost more than the bytes they move.
    const kinds = this.kinds;
    const keys = this.keys;
    const n = chunk.length;
    let out: Buffer = Buffer.allocUnsafe(n * 2 + 1024);
    let o = 0;
    let col = this.col;
    let state = this.state;
    let quotedNumber = this.quotedNumber;
    let i = 0;
    while (i < n) {
      if (state === START) {
        const key = keys[col];
        if (!key) throw new Error(`the COPY output has more columns than the export's ${keys.length}`);
        if (o + key.length + 8 > out.length) out = grown(out, o, key.length + 8);
        out.set(key, o);
        o += key.length;
        const b = chunk[i] as number;
        const kind = kinds[col];
        if (b === COMMA || b === LF) {
          // An empty unquoted field: NULL.
          out[o++] = 0x6e;
          out[o++] = 0x75;
          out[o++] = 0x6c;
          out[o++] = 0x6c;
          if (b === COMMA) col++;
          else {
            out[o++] = 0x7d;
            out[o++] = LF;
            col = 0;
          }
          i++;
          continue;
        }
        if (kind === TEXT) out[o++] = QUOTE;
        if (b === QUOTE) {
          state = QUOTED;
          i++;
          continue;
        }
        state = BARE;
        if (kind === NUMBER) {
          if (b === 0x4e || b === 0x49) {
            // NaN, Infinity: strings in row_to_json
            quotedNumber = true;
            out[o++] = QUOTE;
          } else if (b === 0x2d) {
            state = MINUS;
            i++;
          }
        }
        continue;
      }
      if (state === MINUS) {
        if (o + 2 > out.length) out = grown(out, o, 2);
        if (chunk[i] === 0x49) {
          quotedNumber = true;
          out[o++] = QUOTE;
        }
        out[o++] = 0x2d;
        state = BARE;
        continue;
      }
      if (state === QUOTED_QUOTE) {
        // `""` is a quote; anything else ends the field.
        if (chunk[i] === QUOTE) {
          if (o + 2 > out.length) out = grown(out, o, 2);
          if (kinds[col] === TEXT) out[o++] = BACKSLASH;
          out[o++] = QUOTE;
          state = QUOTED;
          i++;
          continue;
        }
        state = BARE;
      }
      // BARE or QUOTED: up to the end of the field or of the chunk, each byte at most 6 once escaped.
      const quoted = state === QUOTED;
      const text = kinds[col] === TEXT || quotedNumber;
      let j = i;
      if (quoted) while (j < n && chunk[j] !== QUOTE) j++;
      else
        while (j < n) {
          const c = chunk[j];
          if (c === COMMA || c === LF) break;
          j++;
        }
      const need = (j - i) * (text ? 6 : 1) + 8;
      if (o + need > out.length) out = grown(out, o, need);
      if (text)
        for (let k = i; k < j; k++) {
          const c = chunk[k] as number;
          if (NEEDS_ESCAPE[c] === 0) out[o++] = c;
          else {
            const e = ESCAPES[c] as Buffer;
            for (let m = 0; m < e.length; m++) out[o++] = e[m] as number;
          }
        }
      else for (let k = i; k < j; k++) out[o++] = chunk[k] as number;
      i = j;
      if (j === n) break;
      if (quoted) {
        state = QUOTED_QUOTE;
        i++;
        continue;
      }
      // The field ends at a separator.
      if (text) out[o++] = QUOTE;
      quotedNumber = false;
      if (chunk[j] === COMMA) col++;
      else {
        out[o++] = 0x7d;
        out[o++] = LF;
        col = 0;
      }
      state = START;
      i++;
    }
    this.col = col;
    this.state = state;
    this.quotedNumber = quotedNumber;
    cb(null, o ? out.subarray(0, o) : undefined);
  }

  override _flush(cb: TransformCallback): void {
    // PostgreSQL ends every row with a line break; a last row without one is ended as if it had one.
    if (this.state === START && this.col === 0) cb();
    else this._transform(Buffer.from('\n'), 'latin1', cb);
  }
}
