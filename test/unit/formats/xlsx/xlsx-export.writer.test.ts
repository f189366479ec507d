import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import { InvalidParameterError, TooManyRowsError } from '../../../../src/errors.js';
import type { ExportColumn } from '../../../../src/formats/columnar-types.js';
import { createXlsxExportWriter, readXlsxRows, xlsxSheetName, type XlsxExportWriterOptions } from '../../../../src/formats/xlsx/index.js';
import { defined } from '../../../helpers/defined.js';
import { AWKWARD_ROWS, COLUMNS, FIELDS, collect, expectedRow, tempDir } from '../parquet/awkward-rows.js';

const { ValueType } = ExcelJS;
const dir = tempDir('tableport-xlsx-');
let n = 0;

async function writeXlsx(rows: Record<string, unknown>[], opts: Partial<XlsxExportWriterOptions> = {}): Promise<string> {
  const file = join(dir(), `out-${++n}.xlsx`);
  await pipeline(
    Readable.from(rows),
    createXlsxExportWriter({ tableName: 'orders', fields: FIELDS, columns: COLUMNS, ...opts }),
    createWriteStream(file),
  );
  return file;
}

/** The first sheet of `file` as exceljs reads it. */
async function firstSheet(file: string): Promise<ExcelJS.Worksheet> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  return defined(wb.worksheets[0], 'the first sheet');
}

/** A cell's type and value as exceljs reads them. */
function cell(ws: ExcelJS.Worksheet, address: string): [ExcelJS.ValueType, unknown] {
  const c = ws.getCell(address);
  return [c.type, c.value];
}

/**
 * The text Excel shows for a stored string. exceljs hands back the stored text as it is, with
 * ECMA-376's _xHHHH_ escapes (Part 1, 22.9.2.19 ST_Xstring) for characters XML cannot carry (CR,
 * controls, and _x005F_ for a literal underscore before xHHHH_) left undecoded.
 */
function shown(stored: unknown): string {
  assert.equal(typeof stored, 'string');
  return (stored as string).replace(/_x([0-9A-Fa-f]{4})_/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

describe('createXlsxExportWriter', () => {
  it('round-trips awkward rows through its own reader, value for value', async () => {
    const file = await writeXlsx(AWKWARD_ROWS);
    const got = await collect(readXlsxRows(file));
    assert.deepEqual(
      got.map((r) => r.line),
      AWKWARD_ROWS.map((_r, i) => i + 2),
    );
    assert.deepEqual(
      got.map((r) => r.row),
      AWKWARD_ROWS.map(expectedRow),
    );
  });

  it('writes a sheet exceljs reads: named after the table, header row, real numbers, booleans, date cells as dates and text', async () => {
    const file = await writeXlsx(AWKWARD_ROWS, { tableName: 'orders/2024: [draft]' });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    assert.deepEqual(
      wb.worksheets.map((w) => w.name),
      ['orders_2024_ _draft_'],
    );
    const ws = defined(wb.worksheets[0], 'the first sheet');
    assert.deepEqual(
      (ws.getRow(1).values as unknown[]).slice(1),
      COLUMNS.map((c) => c.name),
    );
    // r1 is row 2: A id, B created_at, E title, F qty, G price, H ok, I at, J tags, K meta
    assert.deepEqual(cell(ws, 'A2'), [ValueType.String, 'r1']);
    assert.deepEqual(cell(ws, 'B2'), [ValueType.Number, 1700000000]);
    assert.deepEqual(cell(ws, 'F2'), [ValueType.Number, 9007199254740991]);
    assert.deepEqual(cell(ws, 'F3'), [ValueType.Number, -9007199254740991]);
    assert.deepEqual(cell(ws, 'G3'), [ValueType.Number, -0.000123]);
    assert.deepEqual(cell(ws, 'H2'), [ValueType.Boolean, true]);
    assert.deepEqual(cell(ws, 'H3'), [ValueType.Boolean, false]);
    // A date is a number with a date format; exceljs turns it into the instant it shows.
    assert.deepEqual(cell(ws, 'I2'), [ValueType.Date, new Date('2024-05-01T12:00:00.123Z')]);
    assert.equal(ws.getCell('I2').numFmt, 'yyyy-mm-dd hh:mm:ss.000');
    assert.deepEqual(cell(ws, 'I8'), [ValueType.Date, new Date('2024-12-31T23:59:59.999Z')]);
    assert.equal(ws.getCell('I8').numFmt, 'yyyy-mm-dd hh:mm:ss.000');
    for (const a of ['E2', 'E3', 'E4', 'E8', 'J2', 'K2']) assert.equal(ws.getCell(a).type, ValueType.String, a);
    assert.equal(shown(ws.getCell('E2').value), 'comma, "quote" and \'single\'');
    assert.equal(shown(ws.getCell('E3').value), 'line\nbreak and\r\nCRLF and\ttab');
    assert.equal(shown(ws.getCell('E4').value), '中文 한국어 日本語 🚀👩‍👩‍👧 emoji');
    assert.equal(shown(ws.getCell('E8').value), '<xml> & entities &amp; _x0041_ \u0001 control');
    assert.equal(shown(ws.getCell('J2').value), '["a","b,c"]');
    assert.equal(shown(ws.getCell('K2').value), '{"k":"v","n":[1,{"deep":true}]}');
    // nulls are empty cells, not empty strings
    assert.deepEqual(cell(ws, 'F5'), [ValueType.Null, null]);
    assert.deepEqual(cell(ws, 'L2'), [ValueType.Null, null]);
  });

  it('streams: zip bytes leave while rows are still coming', async () => {
    const columns: ExportColumn[] = [
      { name: 'id', type: 'string' },
      { name: 'n', type: 'integer' },
    ];
    let read = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 30_000; i++) {
          read++;
          yield { id: `row-${i}-${'x'.repeat(i % 50)}`, n: i };
        }
      })(),
    );
    let firstAt = -1;
    await pipeline(
      source,
      createXlsxExportWriter({ tableName: 't', fields: [], columns }),
      new Writable({
        write(_c: Buffer, _e, cb) {
          if (firstAt < 0) firstAt = read;
          cb();
        },
      }),
    );
    assert.ok(firstAt >= 0 && firstAt < 30_000, `first bytes after ${firstAt} rows`);
  });

  it('refuses more rows than the sheet can hold, with a clear error', async () => {
    const rows = Array.from({ length: 6 }, (_v, i) => ({ id: `r${i}` }));
    await assert.rejects(writeXlsx(rows, { maxRows: 5 }), (err: unknown) => {
      assert.ok(err instanceof TooManyRowsError, String(err));
      assert.equal(err.message, 'The rows of an xlsx sheet number more than the limit of 5.');
      return true;
    });
    // five rows are fine
    assert.equal((await collect(readXlsxRows(await writeXlsx(rows.slice(0, 5), { maxRows: 5 })))).length, 5);
  });

  it('refuses a text longer than an xlsx cell holds, naming row and column', async () => {
    await assert.rejects(writeXlsx([{ id: 'a' }, { id: 'b', title: 'x'.repeat(32_768) }]), (err: unknown) => {
      assert.ok(err instanceof InvalidParameterError, String(err));
      assert.match(err.message, /^Row 2, column "title" holds 32768 characters, more than the 32767 an xlsx cell can hold/);
      return true;
    });
  });

  it('keeps dates Excel cannot show (before 1900-03-01) as ISO text', async () => {
    const columns: ExportColumn[] = [{ name: 'at', type: 'date' }];
    const file = await writeXlsx(
      [{ at: '1900-02-28T23:59:59.999Z' }, { at: '1900-03-01T00:00:00.000Z' }, { at: '0001-01-01T00:00:00.000Z' }],
      { columns },
    );
    const ws = await firstSheet(file);
    assert.equal(ws.name, 'orders');
    assert.deepEqual(cell(ws, 'A2'), [ValueType.String, '1900-02-28T23:59:59.999Z']);
    // Serial 61 (after Excel's phantom 1900-02-29); exceljs reads it back as the day it shows.
    assert.deepEqual(cell(ws, 'A3'), [ValueType.Date, new Date('1900-03-01T00:00:00.000Z')]);
    assert.equal(ws.getCell('A3').numFmt, 'yyyy-mm-dd hh:mm:ss.000');
    assert.deepEqual(cell(ws, 'A4'), [ValueType.String, '0001-01-01T00:00:00.000Z']);
    assert.deepEqual(
      (await collect(readXlsxRows(file))).map((r) => r.row.at),
      ['1900-02-28T23:59:59.999Z', new Date('1900-03-01T00:00:00.000Z'), '0001-01-01T00:00:00.000Z'],
    );
  });

  it('writes a header-only sheet for no rows', async () => {
    const file = await writeXlsx([]);
    const ws = await firstSheet(file);
    assert.equal(ws.name, 'orders');
    assert.equal(ws.actualRowCount, 1);
    assert.deepEqual(
      (ws.getRow(1).values as unknown[]).slice(1),
      COLUMNS.map((c) => c.name),
    );
    assert.deepEqual(await collect(readXlsxRows(file)), []);
  });
});

describe('xlsxSheetName', () => {
  it('follows Excel rules: 31 characters, no \\ / ? * [ ] :, no apostrophe at the ends, not empty, not History', () => {
    assert.equal(xlsxSheetName('orders'), 'orders');
    assert.equal(xlsxSheetName('a\\b/c?d*e[f]g:h'), 'a_b_c_d_e_f_g_h');
    assert.equal(xlsxSheetName('x'.repeat(40)), 'x'.repeat(31));
    assert.equal(xlsxSheetName("'quoted'"), 'quoted');
    assert.equal(xlsxSheetName(''), 'Sheet1');
    assert.equal(xlsxSheetName('History'), 'History_');
    // an emoji is two UTF-16 units: it is dropped whole, never halved
    assert.equal(xlsxSheetName(`${'x'.repeat(30)}🚀`), 'x'.repeat(30));
  });
});
