/**
 * Workbooks for tests, written by write-excel-file and read by read-excel-file: maintained xlsx
 * libraries (fflate and a SAX parser of their own), independent of tableport's xlsx code.
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import readXlsxFile from 'read-excel-file/node';
import yauzl from 'yauzl';
import writeXlsxFile, { type Cell, type Row, type Sheet } from 'write-excel-file/node';
import { readAll } from './streams.js';

/** The number format of date cells unless a cell says otherwise: the one tableport's exports use. */
export const DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss.000';

/** A cell as a test writes it: a value, or a write-excel-file cell object (`{ value, format }`, `{ type: 'Formula', value }`). */
export type CellInput = Cell;

/** A workbook of named sheets, in order, each a list of rows (usually the first is the header). Numbers and booleans stay typed cells; dates are date-formatted numbers. */
export async function workbookOf(
  sheets: Record<string, readonly (readonly CellInput[])[]>,
  options: { stickyRows?: number } = {},
): Promise<Buffer> {
  const list: Sheet<Buffer>[] = Object.entries(sheets).map(([sheet, rows]) => ({
    sheet,
    data: rows.map((r): Row => [...r]),
    dateFormat: DATE_FORMAT,
    ...(options.stickyRows ? { stickyRowsCount: options.stickyRows } : {}),
  }));
  return writeXlsxFile(list).toBuffer();
}

/** A one-sheet workbook of `rows` (the first is the header). */
export function xlsxOf(rows: readonly (readonly CellInput[])[], sheet = 'Data'): Promise<Buffer> {
  return workbookOf({ [sheet]: rows });
}

/** A cell as read-excel-file reads it: text, a number, a boolean, a Date (a number with a date format), or null for an empty cell. */
export type CellValue = string | number | boolean | Date | null;

export interface ReadSheet {
  name: string;
  /** Rows from row 1, each padded with nulls to the sheet's width. */
  rows: CellValue[][];
}

/** Every sheet of a workbook (a file's path, or its bytes), as read-excel-file reads it: text as stored, untrimmed. */
export async function readWorkbook(input: string | Buffer): Promise<ReadSheet[]> {
  const sheets = await readXlsxFile(input, { trim: false });
  return sheets.map((s) => ({ name: s.sheet, rows: s.data.map((r) => r.map(cellValue)) }));
}

/** The first sheet of a workbook. */
export async function firstSheet(input: string | Buffer): Promise<ReadSheet> {
  const [first] = await readWorkbook(input);
  if (!first) throw new Error('the workbook has no sheet');
  return first;
}

/** The value at an A1-style address (`E2`, `AA10`): null when the cell is empty or beyond the sheet. */
export function cellAt(sheet: ReadSheet, address: string): CellValue {
  const m = /^([A-Z]+)([1-9]\d*)$/.exec(address);
  if (!m) throw new Error(`not a cell address: ${address}`);
  const column = [...(m[1] ?? '')].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
  return sheet.rows[Number(m[2]) - 1]?.[column] ?? null;
}

/** read-excel-file types its cells loosely (a Date is typed as the Date constructor): narrow them to what they are. */
function cellValue(v: unknown): CellValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  throw new Error(`read-excel-file returned a cell of an unexpected kind: ${String(v)}`);
}

/** The text of one part of an xlsx file (a zip), read with yauzl: `xl/styles.xml`, `xl/worksheets/sheet1.xml`. */
export async function xlsxPart(input: string | Buffer, name: string): Promise<string> {
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  try {
    for (;;) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        zip
          .once('entry', resolve)
          .once('end', () => resolve(null))
          .once('error', reject);
        zip.readEntry();
      });
      if (!entry) throw new Error(`the workbook has no part ${name}`);
      if (entry.fileName !== name) continue;
      const stream = await new Promise<Readable>((resolve, reject) =>
        zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))),
      );
      return (await readAll(stream)).toString('utf8');
    }
  } finally {
    zip.close();
  }
}
