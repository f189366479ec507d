/**
 * Export: PostgreSQL's CSV output of an export's SELECT (no header, `,` delimiter) rewritten, byte
 * by byte, into another text format's rows: the JSON formats' row_to_json lines
 * (copy-csv-json.transform.ts), the SQL format's INSERT statements (sql-export.writer.ts).
 * PostgreSQL's CSV writer is its fastest output, and the rewrite runs in the worker on the other
 * core while PostgreSQL writes the next rows, so these exports cost about what a CSV export does.
 *
 * PostgreSQL's CSV: a NULL is an empty unquoted field, an empty string `""`; a field is quoted only
 * when it holds `,` `"` or a line break, `"` doubled inside. Each column's text is written by its
 * kind: TEXT between the dialect's quotes with its escapes, NUMBER as it is except NaN and
 * ±Infinity (quoted as text: neither JSON nor SQL has them as bare words), RAW as it is, BOOL
 * (`true`/`false`) as the dialect spells it. One pass and one output buffer per chunk; a value may
 * span chunks.
 */
import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;

/** How a column's text is written. */
export const RAW = 0;
export const TEXT = 1;
export const NUMBER = 2;
export const BOOL = 3;

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
/** The rest of a field already written (a boolean). */
const SKIP = 5;

export interface CsvRewriteDialect {
  /** What comes before each column's value: the first column's also starts the row. */
  prefixes: readonly Buffer[];
  /** Each column's kind (RAW, TEXT, NUMBER, BOOL). */
  kinds: readonly number[];
  /** The byte TEXT values (and NaN, ±Infinity) are written between. */
  quote: number;
  /** Each byte's replacement inside TEXT; an empty buffer for a byte copied as it is. */
  escapes: readonly Buffer[];
  null: Buffer;
  rowEnd: Buffer;
  true?: Buffer;
  false?: Buffer;
  /** Called once per chunk with the rows written so far, and once at the end. */
  onRows?: (rows: number) => void;
  /** About how many output bytes one input byte makes (the first output buffer's size; default 2). */
  growth?: number;
}

/** `out` with room for `more` bytes after `o`. */
function grown(out: Buffer, o: number, more: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(out.length * 2, o + more));
  out.copy(next, 0, 0, o);
  return next;
}

/** Input bytes scanned between two checks of the output buffer's room. */
const BLOCK = 256;

/** `bytes` written at `o`; returns the position after them. */
function put(out: Buffer, o: number, bytes: Buffer): number {
  const n = bytes.length;
  if (n > 32) {
    out.set(bytes, o);
    return o + n;
  }
  for (let k = 0; k < n; k++) out[o + k] = bytes[k] as number;
  return o + n;
}

export class CopyCsvRewriter extends Transform {
  private readonly kinds: Uint8Array;
  private readonly prefixes: readonly Buffer[];
  private readonly quote: number;
  private readonly escapes: readonly Buffer[];
  private readonly needsEscape: Uint8Array;
  /** The most bytes one input byte of a TEXT value becomes. */
  private readonly maxEscape: number;
  private readonly nullBytes: Buffer;
  private readonly rowEnd: Buffer;
  private readonly trueBytes: Buffer;
  private readonly falseBytes: Buffer;
  private readonly onRows: ((rows: number) => void) | undefined;
  /** Output bytes per input byte expected of the next chunk: the last large chunk's, to begin with `growth`. */
  private growth: number;
  private col = 0;
  private state = START;
  /** The current field is a NaN or ±Infinity of a number column, written as text. */
  private quotedNumber = false;
  private count = 0;

  constructor(d: CsvRewriteDialect) {
    super();
    if (d.prefixes.length === 0 || d.prefixes.length !== d.kinds.length) throw new Error('one prefix and one kind per column');
    this.kinds = Uint8Array.from(d.kinds);
    this.prefixes = d.prefixes;
    this.quote = d.quote;
    this.escapes = d.escapes;
    this.needsEscape = Uint8Array.from(d.escapes, (e) => (e.length ? 1 : 0));
    this.maxEscape = Math.max(1, ...d.escapes.map((e) => e.length));
    this.nullBytes = d.null;
    this.rowEnd = d.rowEnd;
    this.trueBytes = d.true ?? Buffer.from('true');
    this.falseBytes = d.false ?? Buffer.from('false');
    this.onRows = d.onRows;
    this.growth = d.growth ?? 2;
  }

  /** Rows written so far (all of them once the stream has ended). */
  get rows(): number {
    return this.count;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    // One function with its state in locals, bytes written one by one: closures over the output
    // position, or small Buffer.copy calls, cost more than the bytes they move.
    const kinds = this.kinds;
    const prefixes = this.prefixes;
    const q = this.quote;
    const escapes = this.escapes;
    const needsEscape = this.needsEscape;
    const nullBytes = this.nullBytes;
    const rowEnd = this.rowEnd;
    const maxEscape = this.maxEscape;
    const n = chunk.length;
    // Room for what the chunk is expected to become (a little more than the last large one did):
    // every byte allocated here counts towards V8's next full collection, so not three times the input.
    let out: Buffer = Buffer.allocUnsafe(Math.ceil(n * this.growth * 1.0625) + 1024);
    let o = 0;
    let col = this.col;
    let state = this.state;
    let quotedNumber = this.quotedNumber;
    let rows = this.count;
    let i = 0;
    while (i < n) {
      if (state === START) {
        const prefix = prefixes[col];
        if (!prefix) throw new Error(`the COPY output has more columns than the export's ${prefixes.length}`);
        if (o + prefix.length + 16 > out.length) out = grown(out, o, prefix.length + 16);
        o = put(out, o, prefix);
        const b = chunk[i] as number;
        const kind = kinds[col];
        if (b === COMMA || b === LF) {
          // An empty unquoted field: NULL.
          o = put(out, o, nullBytes);
          if (b === COMMA) col++;
          else {
            if (o + rowEnd.length > out.length) out = grown(out, o, rowEnd.length);
            o = put(out, o, rowEnd);
            col = 0;
            rows++;
          }
          i++;
          continue;
        }
        if (kind === BOOL) {
          const word = b === 0x74 ? this.trueBytes : this.falseBytes;
          if (o + word.length > out.length) out = grown(out, o, word.length);
          o = put(out, o, word);
          state = SKIP;
          i++;
          continue;
        }
        if (kind === TEXT) out[o++] = q;
        if (b === QUOTE) {
          state = QUOTED;
          i++;
          continue;
        }
        state = BARE;
        if (kind === NUMBER) {
          if (b === 0x4e || b === 0x49) {
            // NaN, Infinity
            quotedNumber = true;
            out[o++] = q;
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
          out[o++] = q;
        }
        out[o++] = 0x2d;
        state = BARE;
        continue;
      }
      if (state === QUOTED_QUOTE) {
        // `""` is a quote; anything else ends the field.
        if (chunk[i] === QUOTE) {
          const e = kinds[col] === TEXT ? (escapes[QUOTE] as Buffer) : undefined;
          if (o + 8 > out.length) out = grown(out, o, 8);
          if (e?.length) {
            out.set(e, o);
            o += e.length;
          } else out[o++] = QUOTE;
          state = QUOTED;
          i++;
          continue;
        }
        state = BARE;
      }
      // BARE, QUOTED or SKIP: up to the end of the field or of the chunk.
      const quoted = state === QUOTED;
      const skip = state === SKIP;
      const text = kinds[col] === TEXT || quotedNumber;
      let j = i;
      if (skip) {
        // A boolean's rest: already written.
        while (j < n) {
          const c = chunk[j];
          if (c === COMMA || c === LF) break;
          j++;
        }
      } else {
        // Scanned and written in one pass, in blocks with room for each byte escaped.
        const most = text ? maxEscape : 1;
        for (;;) {
          const stop = j + BLOCK < n ? j + BLOCK : n;
          if (o + (stop - j) * most + 8 + rowEnd.length > out.length) out = grown(out, o, (stop - j) * most + 8 + rowEnd.length);
          if (quoted && text)
            while (j < stop) {
              const c = chunk[j] as number;
              if (c === QUOTE) break;
              if (needsEscape[c] === 0) out[o++] = c;
              else o = put(out, o, escapes[c] as Buffer);
              j++;
            }
          else if (quoted)
            while (j < stop) {
              const c = chunk[j] as number;
              if (c === QUOTE) break;
              out[o++] = c;
              j++;
            }
          else if (text)
            while (j < stop) {
              const c = chunk[j] as number;
              if (c === COMMA || c === LF) break;
              if (needsEscape[c] === 0) out[o++] = c;
              else o = put(out, o, escapes[c] as Buffer);
              j++;
            }
          else
            while (j < stop) {
              const c = chunk[j] as number;
              if (c === COMMA || c === LF) break;
              out[o++] = c;
              j++;
            }
          if (j < stop || j === n) break;
        }
      }
      i = j;
      if (j === n) break;
      if (quoted) {
        state = QUOTED_QUOTE;
        i++;
        continue;
      }
      // The field ends at a separator.
      if (text) out[o++] = q;
      quotedNumber = false;
      if (chunk[j] === COMMA) col++;
      else {
        o = put(out, o, rowEnd);
        col = 0;
        rows++;
      }
      state = START;
      i++;
    }
    this.col = col;
    this.state = state;
    this.quotedNumber = quotedNumber;
    this.count = rows;
    if (n >= 16 * 1024) this.growth = Math.max(1, o / n);
    this.onRows?.(rows);
    cb(null, o ? out.subarray(0, o) : undefined);
  }

  override _flush(cb: TransformCallback): void {
    // PostgreSQL ends every row with a line break; a last row without one is ended as if it had one.
    if (this.state === START && this.col === 0) {
      this.onRows?.(this.count);
      cb();
    } else this._transform(Buffer.from('\n'), 'latin1', cb);
  }
}
