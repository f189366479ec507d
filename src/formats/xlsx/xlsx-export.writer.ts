/**
 * Export an xlsx workbook from PostgreSQL's CSV of the export's SELECT (no header, `,` delimiter,
 * as copy-csv-rewrite.ts reads it): CSV bytes in, the zip's bytes out. One sheet named after the
 * table, a bold frozen header row, then one row per record with real numbers, booleans and dates
 * (date cells carry a date format), strings inline (a shared-string table would hold every distinct
 * string in memory), arrays and objects as their JSON text. No row becomes an object and no cell a
 * string: each CSV field is written into a large output Buffer as the cell's XML (fixed parts
 * precomputed per column), which is deflated into the zip (xlsx-zip.ts) as it goes, with backpressure
 * from the reader of the bytes.
 *
 * Cells, by column type:
 * - NULL (an empty unquoted field) is no cell; an empty string (`""`) an empty inline string cell.
 * - `integer`, `number`: a number cell with PostgreSQL's text of it; NaN and ±Infinity as text.
 * - `boolean`: a boolean cell.
 * - `date` (to_char's `YYYY-MM-DDTHH:MI:SS.MSZ`, UTC): a serial day of the 1900 date system,
 *   counted from 1899-12-30 as LibreOffice counts it (and as Excel does from 1900-03-01 on: Excel
 *   counts a 1900-02-29 that never was), in the proleptic Gregorian calendar as PostgreSQL; dates
 *   before 1900 are negative serials, which LibreOffice reads as dates and Excel shows as ####
 *   (docs/import-files.md). A date it cannot parse is written as its text.
 * - `string`, `array`, `object`: inline text, escaped for XML, with OOXML's `_xHHHH_` for
 *   characters XML cannot carry (CR, controls); at most {@link XLSX_MAX_CELL_CHARS} characters.
 *
 * It reads the CSV a whole field at a time (a field a chunk ends inside waits for the next chunk),
 * where copy-csv-rewrite.ts rewrites byte by byte: a cell's XML depends on all of its text (a date's
 * serial, the length limit, `xml:space`, the `_xHHHH_` look-ahead). Before, the export parsed
 * row_to_json lines into row objects and wrote each cell as a string: 3-4 times the CSV export's
 * time (docs/benchmarks.md).
 */
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { createDeflateRaw, type DeflateRaw, type ZlibOptions } from 'node:zlib';
import { InvalidParameterError, TooManyRowsError } from '../../errors.js';
import type { ExportColumn } from '../format.js';
import { xlsxSheetName } from './sheet-name.js';
import {
  APP_PROPS,
  CONTENT_TYPES,
  columnLetters,
  DATE_STYLE,
  escapeXml,
  HEADER_STYLE,
  ROOT_RELS,
  SHEET_END,
  sheetStart,
  stylesXml,
  WORKBOOK_RELS,
  workbookXml,
} from './xlsx-xml.js';
import { centralDirectory, crc32, dataDescriptor, localHeader, storedPart, type ZipEntry } from './xlsx-zip.js';

/** Excel's last row is 1,048,576; the header takes one. */
export const XLSX_MAX_DATA_ROWS = 1_048_575;
/** Excel refuses to show a cell holding more characters than this. */
export const XLSX_MAX_CELL_CHARS = 32_767;
/** How date cells are shown: ISO-like, to the millisecond, in UTC (xlsx dates carry no zone). */
export const XLSX_DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss.000';

const MS_PER_DAY = 86_400_000;
/** 1970-01-01 as a serial day: days since 1899-12-30, the 1900 date system's day 0. */
const EPOCH_SERIAL = 25_569;

/** The serial day (1900 date system, day 0 = 1899-12-30) of a UTC instant in milliseconds. */
export function excelSerial(ms: number): number {
  return ms / MS_PER_DAY + EPOCH_SERIAL;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The digit at `i`, or -1. */
function digit(b: Buffer, i: number): number {
  const c = (b[i] as number) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function digits(b: Buffer, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = digit(b, i);
    if (c < 0) return -1;
    v = v * 10 + c;
  }
  return v;
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Milliseconds from 1899-12-30 (serial day 0) to to_char's `YYYY-MM-DDTHH:MI:SS.MSZ` in `b[s, e)`, or NaN for any other text. */
export function serialMsOfIso(b: Buffer, s: number, e: number): number {
  if (e - s !== 24 || b[s + 4] !== 0x2d || b[s + 7] !== 0x2d || b[s + 10] !== 0x54 || b[s + 13] !== 0x3a) return Number.NaN;
  if (b[s + 16] !== 0x3a || b[s + 19] !== 0x2e || b[s + 23] !== 0x5a) return Number.NaN;
  const y = digits(b, s, 4);
  const mo = digits(b, s + 5, 2);
  const d = digits(b, s + 8, 2);
  const h = digits(b, s + 11, 2);
  const mi = digits(b, s + 14, 2);
  const sec = digits(b, s + 17, 2);
  const ms = digits(b, s + 20, 3);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > (DAYS_IN_MONTH[mo] as number) || h < 0 || h > 23 || mi < 0 || mi > 59) return Number.NaN;
  if (sec < 0 || sec > 59 || ms < 0) return Number.NaN;
  return (daysFromCivil(y, mo, d) + EPOCH_SERIAL) * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms;
}

/** Writes the digits of a non-negative integer at `o`; returns the index after them. */
function writeDigits(out: Buffer, o: number, n: number): number {
  let len = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) len++;
  let v = n;
  for (let i = o + len - 1; i >= o; i--) {
    out[i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return o + len;
}

/**
 * Writes a serial day as decimal text at `o`; returns the index after it. `toPrecision(17)` gives
 * 17 significant digits, which read back as the very same double (`String` gives the fewest that
 * do), trailing zeros dropped. Not `String(number)`: V8 keeps each of its results in a number-to-string cache
 * in the old generation, and a million of them made the worker's collector run a full mark every
 * ~50 ms. Nor 11 digits of the day's fraction computed by hand: a reader that truncates to the
 * millisecond (read-excel-file) read 12:00:00.123 as .122 from a decimal just under it.
 */
export function writeSerial(out: Buffer, o: number, serial: number): number {
  let at = o;
  if (Number.isInteger(serial)) {
    if (serial < 0) out[at++] = 0x2d;
    return writeDigits(out, at, Math.abs(serial));
  }
  const text = serial.toPrecision(17);
  let end = text.length;
  if (text.indexOf('e') === -1) {
    while (text.charCodeAt(end - 1) === 0x30) end--;
    if (text.charCodeAt(end - 1) === 0x2e) end--;
  }
  for (let i = 0; i < end; i++) out[at++] = text.charCodeAt(i);
  return at;
}

export interface XlsxExportWriterOptions {
  tableName: string;
  /** The SELECT's columns, in order. */
  columns: readonly ExportColumn[];
  /** Refuse more data rows than this (default and most {@link XLSX_MAX_DATA_ROWS}, Excel's own limit). */
  maxRows?: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;

/** How a column's fields become cells. */
const TEXT = 0;
const NUMBER = 1;
const BOOL = 2;
const DATE = 3;

/**
 * What a byte of text needs: 0 nothing, 1 an escape (`&<>"`, controls, CR), 2 a look (`_` before
 * `xHHHH_`, the start of U+FFFE/U+FFFF, a quote doubled by CSV), 3 white space XML may drop (TAB, LF).
 */
const BYTE_CLASS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) BYTE_CLASS[b] = 1;
BYTE_CLASS[0x09] = 3;
BYTE_CLASS[0x0a] = 3;
for (const b of [0x26, 0x3c, 0x3e]) BYTE_CLASS[b] = 1;
for (const b of [0x22, 0x5f, 0xef]) BYTE_CLASS[b] = 2;

const ESCAPES: Array<Buffer | undefined> = Array.from({ length: 256 }, (_v, b) => {
  if (b === 0x26) return Buffer.from('&amp;');
  if (b === 0x3c) return Buffer.from('&lt;');
  if (b === 0x3e) return Buffer.from('&gt;');
  if (b < 0x20 && b !== 0x09 && b !== 0x0a) return Buffer.from(`_x${b.toString(16).toUpperCase().padStart(4, '0')}_`);
  return undefined;
});
const LITERAL_UNDERSCORE = Buffer.from('_x005F_');

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

const b = (s: string) => Buffer.from(s, 'latin1');
const ROW_OPEN = b('<row r="');
const ROW_END = b('</row>');
const NUMBER_OPEN = b('"><v>');
const DATE_OPEN = b(`" s="${DATE_STYLE}"><v>`);
const VALUE_CLOSE = b('</v></c>');
const TRUE_CELL = b('" t="b"><v>1</v></c>');
const FALSE_CELL = b('" t="b"><v>0</v></c>');
const TEXT_OPEN = b('" t="inlineStr"><is><t>');
const TEXT_OPEN_PRESERVE = b('" t="inlineStr"><is><t xml:space="preserve">');
const TEXT_CLOSE = b('</t></is></c>');
/**
 * Sheet XML is handed to zlib in Buffers of about this size. zlib deflates one written Buffer per
 * trip to its thread and needs the main thread between trips, which is busy writing the next rows:
 * with 256 KiB Buffers it deflated a quarter of what the main thread wrote meanwhile, and the two
 * took turns (1M rows: 11.3 s; with 2 MiB Buffers 7.2 s, the same bytes; docs/benchmarks.md).
 */
const OUT_BYTES = 2 * 1024 * 1024;

export class XlsxExportWriter extends Transform {
  private readonly columns: readonly ExportColumn[];
  private readonly kinds: Uint8Array;
  /** `<c r="B` of each column: the cell's start up to its row number. */
  private readonly heads: Buffer[];
  private readonly maxRows: number;
  /** The sheet's XML is deflated here (zlib, off the main thread) on its way into the zip. */
  private readonly deflate: DeflateRaw;
  private readonly deflated: Promise<void>;
  private readonly entries: ZipEntry[] = [];
  private readonly sheetEntry: ZipEntry;
  /** Bytes of the zip pushed so far. */
  private offset = 0;

  private out: Buffer = Buffer.allocUnsafe(OUT_BYTES);
  private o = 0;
  /** Output Buffers zlib has read, to write into again. */
  private readonly spare: Buffer[] = [];
  /** Data rows begun (the header is row 1, so data row n is sheet row n + 1). */
  private rows = 0;
  /** The current row's number as ASCII digits: `rowDigits[0, rowDigitsLength)` (the header's, 1, at first). */
  private readonly rowDigits = Buffer.from('1               ', 'latin1');
  private rowDigitsLength = 1;
  private col = 0;
  /** The current row's `<row>` is written and its `</row>` is not. */
  private inRow = false;
  /** The bytes of a field that a chunk ended inside, to be parsed again with the next chunk. */
  private carry: Buffer | undefined;

  constructor(opts: XlsxExportWriterOptions) {
    super();
    this.columns = opts.columns;
    this.kinds = Uint8Array.from(opts.columns, (c) =>
      c.type === 'integer' || c.type === 'number' ? NUMBER : c.type === 'boolean' ? BOOL : c.type === 'date' ? DATE : TEXT,
    );
    const letters = opts.columns.map((_c, i) => columnLetters(i));
    this.heads = letters.map((l) => b(`<c r="${l}`));
    this.maxRows = Math.min(opts.maxRows ?? XLSX_MAX_DATA_ROWS, XLSX_MAX_DATA_ROWS);
    const parts: Array<[string, string]> = [
      ['[Content_Types].xml', CONTENT_TYPES],
      ['_rels/.rels', ROOT_RELS],
      ['docProps/app.xml', APP_PROPS],
      ['xl/workbook.xml', workbookXml(xlsxSheetName(opts.tableName))],
      ['xl/_rels/workbook.xml.rels', WORKBOOK_RELS],
      ['xl/styles.xml', stylesXml(XLSX_DATE_FORMAT)],
    ];
    for (const [name, text] of parts) {
      const { bytes, entry } = storedPart(name, Buffer.from(text), this.offset);
      this.entries.push(entry);
      this.pushZip(bytes);
    }
    this.sheetEntry = {
      name: Buffer.from('xl/worksheets/sheet1.xml'),
      method: 8,
      crc: 0,
      compressed: 0,
      uncompressed: 0,
      offset: this.offset,
      streamed: true,
    };
    this.entries.push(this.sheetEntry);
    this.pushZip(localHeader(this.sheetEntry));
    // Level 1: the sheet is repetitive XML, level 1 keeps most of the gain at a fraction of the time.
    // A few output Buffers may wait for zlib, so the next rows are written while it deflates.
    // (zlib hands its options to its Transform, whose writableHighWaterMark ZlibOptions leaves out.)
    // Its output chunk holds what one Buffer deflates to, so a Buffer is one trip to zlib's thread.
    const deflateOptions: ZlibOptions & TransformOptions = { level: 1, chunkSize: 512 * 1024, writableHighWaterMark: 4 * OUT_BYTES };
    this.deflate = createDeflateRaw(deflateOptions);
    this.deflate.on('data', (chunk: Buffer) => {
      this.sheetEntry.compressed += chunk.length;
      if (!this.pushZip(chunk)) this.deflate.pause();
    });
    this.deflated = new Promise((resolve, reject) => {
      this.deflate.on('end', resolve);
      this.deflate.on('error', reject);
    });
    // Without a catch here a failure before _flush would be an unhandled rejection.
    this.deflated.catch(() => undefined);
    const widths = opts.columns.map((c) => (c.type === 'date' ? 24 : Math.max(10, Math.min(40, c.name.length + 2))));
    const header = opts.columns.map(
      (c, i) => `<c r="${letters[i]}1" t="inlineStr" s="${HEADER_STYLE}"><is><t>${escapeXml(c.name)}</t></is></c>`,
    );
    this.put(Buffer.from(`${sheetStart(widths)}<row r="1">${header.join('')}</row>`));
  }

  private pushZip(bytes: Buffer): boolean {
    this.offset += bytes.length;
    return this.push(bytes);
  }

  override _read(size: number): void {
    this.deflate.resume();
    super._read(size);
  }

  /** Room for `more` bytes at `o`. */
  /**
   * The output Buffer with room for `more` bytes at `o`: a full one goes to zlib and a spare one
   * takes its place (a cell may span two), so no Buffer grows; a value larger than a whole
   * Buffer gets one of its own.
   */
  private room(more: number): Buffer {
    if (this.o + more > this.out.length) {
      if (this.o > 0) this.deflateOut();
      if (more > this.out.length) this.out = Buffer.allocUnsafe(more);
    }
    return this.out;
  }

  /** Appends fixed bytes (short: a loop is cheaper than a native copy's call). */
  private put(bytes: Buffer): void {
    const n = bytes.length;
    const out = this.room(n);
    if (n > 64) {
      out.set(bytes, this.o);
      this.o += n;
      return;
    }
    let o = this.o;
    for (let i = 0; i < n; i++) out[o++] = bytes[i] as number;
    this.o = o;
  }

  /** Appends `buf[s, e)`. */
  private copy(buf: Buffer, s: number, e: number): void {
    const out = this.room(e - s);
    if (e - s > 64) {
      buf.copy(out, this.o, s, e);
      this.o += e - s;
      return;
    }
    let o = this.o;
    for (let i = s; i < e; i++) out[o++] = buf[i] as number;
    this.o = o;
  }

  /** The start of a cell up to its row number: `<c r="B12`. */
  private cellHead(col: number): void {
    const head = this.heads[col] as Buffer;
    const digits = this.rowDigits;
    const n = this.rowDigitsLength;
    const out = this.room(head.length + n);
    let o = this.o;
    for (let i = 0; i < head.length; i++) out[o++] = head[i] as number;
    for (let i = 0; i < n; i++) out[o++] = digits[i] as number;
    this.o = o;
  }

  private startRow(): void {
    if (++this.rows > this.maxRows) throw new TooManyRowsError(this.maxRows, undefined, 'The rows of an xlsx sheet');
    this.inRow = true;
    // The row number's digits, counted up by hand (see writeSerial on String(number)).
    const digits = this.rowDigits;
    let i = this.rowDigitsLength - 1;
    while (i >= 0 && digits[i] === 0x39) digits[i--] = 0x30;
    if (i >= 0) digits[i] = (digits[i] as number) + 1;
    else {
      digits.copyWithin(1, 0, this.rowDigitsLength);
      digits[0] = 0x31;
      this.rowDigitsLength++;
    }
    this.put(ROW_OPEN);
    const out = this.room(this.rowDigitsLength + 2);
    for (let i = 0; i < this.rowDigitsLength; i++) out[this.o++] = this.rowDigits[i] as number;
    out[this.o++] = 0x22;
    out[this.o++] = 0x3e;
  }

  /** One field's cell: `b[s, e)` is its text (quotes removed, `""` still doubled when `quoted`). */
  private cell(buf: Buffer, s: number, e: number, quoted: boolean): void {
    const col = this.col;
    const kind = this.kinds[col];
    if (kind === undefined) throw new Error(`the COPY output has more columns than the export's ${this.kinds.length}`);
    if (!quoted && s === e) return; // NULL: no cell
    if (kind === NUMBER) {
      const first = buf[s];
      // NaN, Infinity, -Infinity: no number a cell holds; written as their text.
      if (!quoted && s < e && first !== 0x4e && first !== 0x49 && !(first === 0x2d && buf[s + 1] === 0x49)) {
        this.cellHead(col);
        this.put(NUMBER_OPEN);
        this.copy(buf, s, e);
        this.put(VALUE_CLOSE);
        return;
      }
    } else if (kind === BOOL && !quoted && s < e) {
      this.cellHead(col);
      this.put(buf[s] === 0x74 /* t */ ? TRUE_CELL : FALSE_CELL);
      return;
    } else if (kind === DATE && !quoted) {
      const serialMs = serialMsOfIso(buf, s, e);
      if (!Number.isNaN(serialMs)) {
        this.cellHead(col);
        this.put(DATE_OPEN);
        // The same double as excelSerial of the instant (Unix milliseconds), as the export always wrote.
        this.o = writeSerial(this.room(32), this.o, excelSerial(serialMs - EPOCH_SERIAL * MS_PER_DAY));
        this.put(VALUE_CLOSE);
        return;
      }
    }
    this.text(buf, s, e, quoted);
  }

  private text(buf: Buffer, s: number, e: number, quoted: boolean): void {
    // One look at the bytes: its length in UTF-16 units (Excel's measure) and whether any needs care.
    let units = 0;
    let special = false;
    let lineBreak = false;
    for (let i = s; i < e; i++) {
      const c = buf[i] as number;
      if ((c & 0xc0) !== 0x80) units += c >= 0xf0 ? 2 : 1;
      if (BYTE_CLASS[c] !== 0) {
        special = true;
        if (c === LF) lineBreak = true;
      }
    }
    if (quoted) units -= this.doubledQuotes(buf, s, e);
    if (units > XLSX_MAX_CELL_CHARS) {
      const column = this.columns[this.col] as ExportColumn;
      throw new InvalidParameterError(
        'file_type',
        `Row ${this.rows}, column "${column.name}" holds ${units} characters, more than the ${XLSX_MAX_CELL_CHARS} ` +
          'an xlsx cell can hold; export it as CSV, JSON or Parquet.',
      );
    }
    this.cellHead(this.col);
    const preserve = lineBreak || (s < e && (isXmlSpace(buf[s]) || isXmlSpace(buf[e - 1])));
    this.put(preserve ? TEXT_OPEN_PRESERVE : TEXT_OPEN);
    if (!special) this.copy(buf, s, e);
    else {
      // Each byte becomes at most 7 (`_x005F_`, `_x001F_`).
      const out = this.room((e - s) * 7 + TEXT_CLOSE.length);
      let o = this.o;
      for (let i = s; i < e; i++) {
        const c = buf[i] as number;
        const cls = BYTE_CLASS[c];
        if (cls === 0 || cls === 3) {
          out[o++] = c;
        } else if (cls === 1) {
          const esc = ESCAPES[c] as Buffer;
          out.set(esc, o);
          o += esc.length;
        } else if (c === QUOTE) {
          // A quote in a quoted CSV field is doubled: write one.
          out[o++] = c;
          i++;
        } else if (c === 0x5f) {
          // A literal "_xHHHH_" must not be read back as an escape.
          if (
            buf[i + 1] === 0x78 &&
            i + 6 < e &&
            isHex(buf[i + 2]) &&
            isHex(buf[i + 3]) &&
            isHex(buf[i + 4]) &&
            isHex(buf[i + 5]) &&
            buf[i + 6] === 0x5f
          ) {
            out.set(LITERAL_UNDERSCORE, o);
            o += LITERAL_UNDERSCORE.length;
          } else out[o++] = c;
        } else if (buf[i + 1] === 0xbf && (buf[i + 2] === 0xbe || buf[i + 2] === 0xbf) && i + 2 < e) {
          // U+FFFE, U+FFFF (EF BF BE, EF BF BF): not XML characters.
          o += out.write(buf[i + 2] === 0xbe ? '_xFFFE_' : '_xFFFF_', o, 'latin1');
          i += 2;
        } else out[o++] = c;
      }
      this.o = o;
    }
    this.put(TEXT_CLOSE);
  }

  /** How many `""` pairs a quoted field's text holds. */
  private doubledQuotes(buf: Buffer, s: number, e: number): number {
    let n = 0;
    for (let i = buf.indexOf(QUOTE, s); i !== -1 && i < e; i = buf.indexOf(QUOTE, i + 2)) n++;
    return n;
  }

  /**
   * Writes the cells of `buf`, which begins at a field's start; returns where a field the input
   * ended inside begins (to be parsed again with the next chunk), or -1. `final`: no more input.
   */
  private parse(buf: Buffer, final: boolean): number {
    const n = buf.length;
    let i = 0;
    for (;;) {
      if (i === n) {
        // After a `,` at the very end, the row's last field is an empty one: NULL.
        if (final && this.inRow) this.endRow();
        return -1;
      }
      if (!this.inRow) this.startRow();
      let s: number;
      let e: number;
      let next: number;
      const quoted = buf[i] === QUOTE;
      if (quoted) {
        s = i + 1;
        let j = s;
        for (;;) {
          j = buf.indexOf(QUOTE, j);
          // No closing quote yet, or a quote that may be the first of `""`.
          if (j === -1 || (j + 1 === n && !final)) return i;
          if (buf[j + 1] === QUOTE) j += 2;
          else break;
        }
        e = j;
        next = j + 1;
      } else {
        let j = i;
        while (j < n) {
          const c = buf[j];
          if (c === COMMA || c === LF) break;
          j++;
        }
        if (j === n && !final) return i;
        s = i;
        e = j;
        next = j;
      }
      this.cell(buf, s, e, quoted);
      if (next === n) {
        this.endRow();
        return -1;
      }
      const sep = buf[next];
      if (sep === COMMA) this.col++;
      else if (sep === LF) this.endRow();
      else throw new Error(`unexpected byte ${sep} after a quoted field of PostgreSQL's CSV`);
      i = next + 1;
    }
  }

  private endRow(): void {
    this.put(ROW_END);
    this.col = 0;
    this.inRow = false;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk, false);
    } catch (err) {
      cb(err as Error);
      return;
    }
    this.send(cb);
  }

  private consume(chunk: Buffer, final: boolean): void {
    let start = 0;
    const carry = this.carry;
    if (carry) {
      // The carried field is finished with as few of the chunk's first bytes as it needs: joining it
      // to the whole chunk copied 256 KiB per chunk, and so much allocation is work for the collector.
      this.carry = undefined;
      for (let take = Math.min(chunk.length, 256); ; take = Math.min(chunk.length, take * 4)) {
        const head = Buffer.concat([carry, chunk.subarray(0, take)]);
        const rest = this.parse(head, final && take === chunk.length);
        if (rest === -1) {
          start = take;
          break;
        }
        if (rest >= carry.length) {
          // Past the carried field: go on from the field the head cut, in the chunk.
          start = rest - carry.length;
          break;
        }
        if (take === chunk.length) {
          this.carry = Buffer.from(head.subarray(rest));
          return;
        }
      }
    }
    const buf = start === 0 ? chunk : chunk.subarray(start);
    const rest = this.parse(buf, final);
    if (rest >= 0 && rest < buf.length) this.carry = Buffer.from(buf.subarray(rest));
  }

  /** `cb` once zlib can take more: the backpressure of the zip's reader, one input chunk at a time. */
  private send(cb: TransformCallback): void {
    if (this.deflate.writableNeedDrain) this.deflate.once('drain', () => cb());
    else cb();
  }

  /** Hands the XML written so far to zlib (which may queue it past its high-water mark; `send` waits). */
  private deflateOut(): void {
    const whole = this.out;
    const xml = whole.subarray(0, this.o);
    this.sheetEntry.crc = crc32(xml, this.sheetEntry.crc);
    this.sheetEntry.uncompressed += xml.length;
    this.out = this.spare.pop() ?? Buffer.allocUnsafe(OUT_BYTES);
    this.o = 0;
    // Once zlib has read a Buffer it is written again: a new one for each would be ~1 GB of
    // allocations for a million rows, and V8 answers those with a full collection every ~100 ms.
    this.deflate.write(xml, () => {
      if (whole.length === OUT_BYTES) this.spare.push(whole);
    });
  }

  override _flush(cb: TransformCallback): void {
    try {
      // PostgreSQL ends every row with a line break; a last row without one is ended here.
      if (this.carry || this.inRow) this.consume(Buffer.alloc(0), true);
      if (this.carry) throw new Error("PostgreSQL's CSV ended inside a quoted field");
      this.put(b(SHEET_END));
    } catch (err) {
      cb(err as Error);
      return;
    }
    if (this.o > 0) this.deflateOut();
    this.deflate.end();
    this.deflated.then(
      () => {
        this.pushZip(dataDescriptor(this.sheetEntry));
        this.pushZip(centralDirectory(this.entries, this.offset));
        cb();
      },
      (err: unknown) => cb(err as Error),
    );
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.deflate.destroy();
    cb(err);
  }
}

function isXmlSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** A Transform: PostgreSQL's CSV of the export in, the xlsx file's bytes out; at most {@link XLSX_MAX_DATA_ROWS} rows. */
export function createXlsxExportWriter(opts: XlsxExportWriterOptions): Transform {
  return new XlsxExportWriter(opts);
}
