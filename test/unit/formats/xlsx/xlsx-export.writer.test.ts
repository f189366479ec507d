import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import { InvalidParameterError, TooManyRowsError } from '../../../../src/errors.js';
import type { ExportColumn } from '../../../../src/formats/columnar-types.js';
import { createXlsxExportWriter, readXlsxRows, xlsxSheetName, type XlsxExportWriterOptions } from '../../../../src/formats/xlsx/index.js';
import { defined } from '../../../helpers/defined.js';
import { AWKWARD_ROWS, COLUMNS, FIELDS, collect, expectedRow, tempDir } from '../parquet/awkward-rows.js';

// SheetJS's CommonJS build: its ES module build has no file access.
const XLSX = createRequire(import.meta.url)('xlsx') as typeof import('xlsx');
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

  it('writes a sheet SheetJS reads: named after the table, header row, real numbers, booleans, dates and text', async () => {
    const file = await writeXlsx(AWKWARD_ROWS, { tableName: 'orders/2024: [draft]' });
    const wb = XLSX.readFile(file, { cellNF: true });
    assert.deepEqual(wb.SheetNames, ['orders_2024_ _draft_']);
    const ws = wb.Sheets[wb.SheetNames[0] as string] as import('xlsx').WorkSheet;
    const header = XLSX.utils.sheet_to_json<unknown[]>(ws, { header: 1 })[0];
    assert.deepEqual(
      header,
      COLUMNS.map((c) => c.name),
    );
    // r1 is row 2: A id, B created_at, E title, F qty, G price, H ok, I at, J tags, K meta
    assert.equal(ws.A2?.t, 's');
    assert.equal(ws.B2?.t, 'n');
    assert.equal(ws.B2?.v, 1700000000);
    assert.equal(ws.F2?.t, 'n');
    assert.equal(ws.F2?.v, 9007199254740991);
    assert.equal(ws.F3?.v, -9007199254740991);
    assert.equal(ws.G3?.v, -0.000123);
    assert.equal(ws.H2?.t, 'b');
    assert.equal(ws.H2?.v, true);
    assert.equal(ws.H3?.v, false);
    assert.equal(ws.I2?.t, 'n');
    assert.equal(ws.I2?.z, 'yyyy-mm-dd hh:mm:ss.000');
    assert.equal(ws.I2?.w, '2024-05-01 12:00:00.123');
    assert.equal(ws.I8?.w, '2024-12-31 23:59:59.999');
    assert.equal(ws.E2?.v, 'comma, "quote" and \'single\'');
    assert.equal(ws.E3?.v, 'line\nbreak and\r\nCRLF and\ttab');
    assert.equal(ws.E4?.v, '中文 한국어 日本語 🚀👩‍👩‍👧 emoji');
    assert.equal(ws.E8?.v, '<xml> & entities &amp; _x0041_ \u0001 control');
    assert.equal(ws.J2?.v, '["a","b,c"]');
    assert.equal(ws.K2?.v, '{"k":"v","n":[1,{"deep":true}]}');
    // nulls are empty cells, not empty strings
    assert.equal(ws.F5, undefined);
    assert.equal(ws.L2, undefined);
  });

  it('writes a workbook exceljs opens, with date cells as dates', async () => {
    const file = await writeXlsx(AWKWARD_ROWS.slice(0, 2), { tableName: 'orders' });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.worksheets[0];
    assert.equal(ws?.name, 'orders');
    assert.deepEqual(
      (defined(ws, 'the first sheet').getRow(1).values as unknown[]).slice(1),
      COLUMNS.map((c) => c.name),
    );
    const r2 = ws?.getRow(2);
    assert.equal(r2?.getCell(1).value, 'r1');
    assert.equal(r2?.getCell(6).value, 9007199254740991);
    assert.equal(r2?.getCell(8).value, true);
    assert.deepEqual(r2?.getCell(9).value, new Date('2024-05-01T12:00:00.123Z'));
    assert.equal(r2?.getCell(9).numFmt, 'yyyy-mm-dd hh:mm:ss.000');
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
    const ws = XLSX.readFile(file, { cellNF: true }).Sheets.orders as import('xlsx').WorkSheet;
    assert.deepEqual([ws.A2?.t, ws.A2?.v], ['s', '1900-02-28T23:59:59.999Z']);
    assert.deepEqual([ws.A3?.t, ws.A3?.v, ws.A3?.w], ['n', 61, '1900-03-01 00:00:00.000']);
    assert.deepEqual([ws.A4?.t, ws.A4?.v], ['s', '0001-01-01T00:00:00.000Z']);
    assert.deepEqual(
      (await collect(readXlsxRows(file))).map((r) => r.row.at),
      ['1900-02-28T23:59:59.999Z', new Date('1900-03-01T00:00:00.000Z'), '0001-01-01T00:00:00.000Z'],
    );
  });

  it('writes a header-only sheet for no rows', async () => {
    const file = await writeXlsx([]);
    const ws = XLSX.readFile(file).Sheets.orders as import('xlsx').WorkSheet;
    assert.deepEqual(XLSX.utils.sheet_to_json<unknown[]>(ws, { header: 1 }), [COLUMNS.map((c) => c.name)]);
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
