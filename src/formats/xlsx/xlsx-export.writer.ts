/**
 * Export rows as an xlsx workbook: row objects in, the zip's bytes out. One sheet named after the
 * table, a bold frozen header row, then one row per record with real numbers, booleans and dates
 * (date cells carry a date format), strings inline (a shared-string table would hold every distinct
 * string in memory), arrays and objects as JSON text. The sheet's XML is written as rows arrive and
 * deflated into the zip (yazl) as it goes, with backpressure from the reader of the bytes.
 *
 * Hand-written rather than exceljs's WorkbookWriter: that one built a Row and Cell object per cell
 * and wrote ~10,000 rows/s here; this writes the same cells as strings (see docs/benchmarks.md).
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import yazl from 'yazl';
import { InvalidParameterError, TooManyRowsError } from '../../errors.js';
import type { ColumnarExportOptions, ExportColumn } from '../columnar-types.js';
import { xlsxSheetName } from './sheet-name.js';
import {
  APP_PROPS,
  CONTENT_TYPES,
  DATE_STYLE,
  escapeXml,
  HEADER_STYLE,
  ROOT_RELS,
  SHEET_END,
  sheetStart,
  stylesXml,
  WORKBOOK_RELS,
  workbookXml,
  columnLetters,
} from './xlsx-xml.js';

/** Excel's last row is 1,048,576; the header takes one. */
export const XLSX_MAX_DATA_ROWS = 1_048_575;
/** Excel refuses to show a cell holding more characters than this. */
export const XLSX_MAX_CELL_CHARS = 32_767;
/** How date cells are shown: ISO-like, to the millisecond, in UTC (xlsx dates carry no zone). */
export const XLSX_DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss.000';

const MS_PER_DAY = 86_400_000;
/** 1970-01-01 as an Excel serial day (1900 date system). */
const EPOCH_SERIAL = 25_569;
const FIRST_EXCEL_DATE_MS = Date.UTC(1900, 2, 1);
const LAST_EXCEL_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Sheet XML is handed to the zip in pieces of about this many characters. */
const BATCH_CHARS = 64 * 1024;

export function excelSerial(ms: number): number {
  return ms / MS_PER_DAY + EPOCH_SERIAL;
}

export interface XlsxExportWriterOptions extends ColumnarExportOptions {
  /** Refuse more data rows than this (default and most {@link XLSX_MAX_DATA_ROWS}, Excel's own limit). */
  maxRows?: number;
}

export class XlsxExportWriter extends Transform {
  private readonly columns: ExportColumn[];
  private readonly maxRows: number;
  private readonly letters: string[];
  private readonly sheet: Readable;
  private readonly zip = new yazl.ZipFile();
  private readonly zipOut: NodeJS.ReadableStream;
  private batch: string;
  private rows = 0;
  /** A row write held while the sheet stream is full: the backpressure from the zip and its reader. */
  private heldRow: TransformCallback | undefined;
  private zipEnded: Promise<void>;

  constructor(opts: XlsxExportWriterOptions) {
    super({ writableObjectMode: true, readableObjectMode: false });
    this.columns = opts.columns;
    this.maxRows = Math.min(opts.maxRows ?? XLSX_MAX_DATA_ROWS, XLSX_MAX_DATA_ROWS);
    this.letters = this.columns.map((_c, i) => columnLetters(i));
    this.sheet = new Readable({
      read: () => {
        const held = this.heldRow;
        this.heldRow = undefined;
        held?.();
      },
    });
    const fixed = { compress: true, mtime: new Date(0) } as const;
    this.zip.addBuffer(Buffer.from(CONTENT_TYPES), '[Content_Types].xml', fixed);
    this.zip.addBuffer(Buffer.from(ROOT_RELS), '_rels/.rels', fixed);
    this.zip.addBuffer(Buffer.from(APP_PROPS), 'docProps/app.xml', fixed);
    this.zip.addBuffer(Buffer.from(workbookXml(xlsxSheetName(opts.tableName))), 'xl/workbook.xml', fixed);
    this.zip.addBuffer(Buffer.from(WORKBOOK_RELS), 'xl/_rels/workbook.xml.rels', fixed);
    this.zip.addBuffer(Buffer.from(stylesXml(XLSX_DATE_FORMAT)), 'xl/styles.xml', fixed);
    // Level 1: the sheet is repetitive XML, level 1 keeps most of the gain at a fraction of the time.
    this.zip.addReadStream(this.sheet, 'xl/worksheets/sheet1.xml', { compress: true, compressionLevel: 1, mtime: new Date(0) });
    this.zip.end();
    this.zipOut = this.zip.outputStream;
    this.zipOut.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) this.zipOut.pause();
    });
    this.zipEnded = new Promise((resolve, reject) => {
      this.zipOut.on('end', resolve);
      this.zipOut.on('error', reject);
    });
    // Without a catch here a failure before _flush would be an unhandled rejection.
    this.zipEnded.catch(() => undefined);
    const widths = this.columns.map((c) => (c.type === 'date' ? 24 : Math.max(10, Math.min(40, c.name.length + 2))));
    const header = this.columns.map(
      (c, i) => `<c r="${this.letters[i]}1" t="inlineStr" s="${HEADER_STYLE}"><is><t>${escapeXml(c.name)}</t></is></c>`,
    );
    this.batch = `${sheetStart(widths)}<row r="1">${header.join('')}</row>`;
  }

  override _read(size: number): void {
    this.zipOut.resume();
    super._read(size);
  }

  private cell(v: unknown, column: ExportColumn, ref: string): string {
    if (v === null || v === undefined) return '';
    switch (column.type) {
      case 'integer':
      case 'number':
        if (typeof v === 'number' && Number.isFinite(v)) return `<c r="${ref}"><v>${v}</v></c>`;
        if (typeof v === 'bigint') return `<c r="${ref}"><v>${v}</v></c>`;
        break;
      case 'boolean':
        if (typeof v === 'boolean') return `<c r="${ref}" t="b"><v>${v ? 1 : 0}</v></c>`;
        break;
      case 'date': {
        const ms = typeof v === 'string' ? Date.parse(v) : v instanceof Date ? v.getTime() : Number.NaN;
        // Excel shows dates from 1900-03-01 (before it, its 1900 leap-year bug shifts them) to 9999-12-31;
        // others stay ISO text, which reads back as the same date.
        if (ms >= FIRST_EXCEL_DATE_MS && ms <= LAST_EXCEL_DATE_MS) return `<c r="${ref}" s="${DATE_STYLE}"><v>${excelSerial(ms)}</v></c>`;
        if (Number.isFinite(ms) && typeof v !== 'string')
          return this.cell(new Date(ms).toISOString(), { name: column.name, type: 'string' }, ref);
        break;
      }
      default:
        break;
    }
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (text.length > XLSX_MAX_CELL_CHARS) {
      throw new InvalidParameterError(
        'file_type',
        `Row ${this.rows}, column "${column.name}" holds ${text.length} characters, more than the ${XLSX_MAX_CELL_CHARS} ` +
          'an xlsx cell can hold; export it as CSV, JSON or Parquet.',
      );
    }
    const space = text.length > 0 && (/^\s|\s$/.test(text) || text.includes('\n')) ? ' xml:space="preserve"' : '';
    return `<c r="${ref}" t="inlineStr"><is><t${space}>${escapeXml(text)}</t></is></c>`;
  }

  override _transform(row: Record<string, unknown>, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      if (++this.rows > this.maxRows) throw new TooManyRowsError(this.maxRows, undefined, 'The rows of an xlsx sheet');
      const r = this.rows + 1;
      let xml = `<row r="${r}">`;
      for (let i = 0; i < this.columns.length; i++) {
        const column = this.columns[i] as ExportColumn;
        xml += this.cell(row[column.name], column, `${this.letters[i]}${r}`);
      }
      this.batch += `${xml}</row>`;
    } catch (err) {
      cb(err as Error);
      return;
    }
    if (this.batch.length < BATCH_CHARS) {
      cb();
      return;
    }
    const more = this.sheet.push(this.batch);
    this.batch = '';
    if (more) cb();
    else this.heldRow = cb;
  }

  override _flush(cb: TransformCallback): void {
    this.sheet.push(this.batch + SHEET_END);
    this.batch = '';
    this.sheet.push(null);
    this.zipEnded.then(
      () => cb(),
      (err: unknown) => cb(err as Error),
    );
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.sheet.destroy();
    cb(err);
  }
}

/** A Transform: row objects in, the xlsx file's bytes out; at most {@link XLSX_MAX_DATA_ROWS} rows. */
export function createXlsxExportWriter(opts: XlsxExportWriterOptions): Transform {
  return new XlsxExportWriter(opts);
}
