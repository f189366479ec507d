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
import { AWKWARD_ROWS, COLUMNS, collect, expectedRow, tempDir } from '../parquet/awkward-rows.js';
import { copyCsvOf } from '../../../helpers/copy-csv.js';
import { zipPart } from '../../../helpers/xlsx.js';

const { ValueType } = ExcelJS;
const dir = tempDir('tableport-xlsx-');
let n = 0;

/** Rows written as the export writes them: PostgreSQL's CSV of the rows, through the writer. */
async function writeXlsx(rows: Record<string, unknown>[], opts: Partial<XlsxExportWriterOptions> = {}): Promise<string> {
  const file = join(dir(), `out-${++n}.xlsx`);
  const columns = opts.columns ?? COLUMNS;
  await pipeline(
    Readable.from([Buffer.from(copyCsvOf(rows, columns))]),
    createXlsxExportWriter({ tableName: 'orders', columns, ...opts }),
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
          yield Buffer.from(`row-${i}-${'x'.repeat(i % 50)},${i}\n`);
        }
      })(),
    );
    let firstAt = -1;
    await pipeline(
      source,
      createXlsxExportWriter({ tableName: 't', columns }),
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

  it('writes every date as a serial day counted from 1899-12-30, negative before it, as LibreOffice writes them', async () => {
    const columns: ExportColumn[] = [{ name: 'at', type: 'date' }];
    // The serials LibreOffice Calc 7.4 itself wrote for these days when it saved them as xlsx.
    const days: Array<[string, string]> = [
      ['0001-01-01T00:00:00.000Z', '-693593'],
      ['1000-01-01T00:00:00.000Z', '-328716'],
      ['1800-06-15T00:00:00.000Z', '-36357'],
      ['1899-12-30T00:00:00.000Z', '0'],
      ['1899-12-31T00:00:00.000Z', '1'],
      ['1900-01-01T00:00:00.000Z', '2'],
      ['1900-03-01T00:00:00.000Z', '61'],
      ['2024-02-29T00:00:00.000Z', '45351'],
      ['1899-12-29T18:00:00.000Z', '-0.25'],
    ];
    const timed = ['1800-06-15T12:34:56.789Z', '1900-02-28T23:59:59.999Z', '9999-12-31T23:59:59.999Z', '1969-12-31T23:59:59.999Z'];
    const all = [...days.map(([at]) => at), ...timed];
    const file = await writeXlsx(
      all.map((at) => ({ at })),
      { columns },
    );
    const xml = await zipPart(file, 'xl/worksheets/sheet1.xml');
    for (const [i, [at, serial]] of days.entries())
      assert.ok(xml.includes(`<c r="A${i + 2}" s="1"><v>${serial}</v></c>`), `${at}: serial ${serial}`);
    assert.equal((xml.match(/ s="1"><v>/g) ?? []).length, all.length, 'every date is a date cell');
    // Read back to the millisecond.
    assert.deepEqual(
      (await collect(readXlsxRows(file))).map((r) => (r.row.at as Date).toISOString()),
      all,
    );
    // exceljs reads the same instants (from 1900-03-01 on, Excel shows the same days).
    const ws = await firstSheet(file);
    assert.deepEqual(cell(ws, 'A8'), [ValueType.Date, new Date('1900-03-01T00:00:00.000Z')]);
    assert.equal(ws.getCell('A8').numFmt, 'yyyy-mm-dd hh:mm:ss.000');
  });

  it('writes NULL as no cell and the empty string as an empty text cell', async () => {
    const columns: ExportColumn[] = [
      { name: 'id', type: 'string' },
      { name: 'title', type: 'string' },
      { name: 'n', type: 'integer' },
    ];
    const file = await writeXlsx(
      [
        { id: 'a', title: '', n: null },
        { id: 'b', title: null, n: 1 },
      ],
      { columns },
    );
    const xml = await zipPart(file, 'xl/worksheets/sheet1.xml');
    assert.ok(
      xml.includes('<row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c><c r="B2" t="inlineStr"><is><t></t></is></c></row>'),
      xml,
    );
    assert.ok(xml.includes('<row r="3"><c r="A3" t="inlineStr"><is><t>b</t></is></c><c r="C3"><v>1</v></c></row>'), xml);
    assert.deepEqual(
      (await collect(readXlsxRows(file))).map((r) => r.row),
      [
        { id: 'a', title: '', n: null },
        { id: 'b', title: null, n: 1 },
      ],
    );
  });

  it('writes the same sheet whatever the chunks the CSV comes in (fields, quotes and characters cut anywhere)', async () => {
    const rows = [
      ...AWKWARD_ROWS,
      { id: 'x', title: 'not XML: \ufffe\uffff, CR\r alone, "quoted", _x005F_ and _xABCD_ and _x12_', price: Number.NaN },
      { id: 'y', title: '\n', qty: 7 },
      { id: 'z', price: Number.NEGATIVE_INFINITY, at: '1000-01-01T00:00:00.000Z' },
    ];
    const csv = Buffer.from(copyCsvOf(rows, COLUMNS));
    const sheetOf = async (chunks: Buffer[]) => {
      const file = join(dir(), `chunks-${++n}.xlsx`);
      await pipeline(Readable.from(chunks), createXlsxExportWriter({ tableName: 'orders', columns: COLUMNS }), createWriteStream(file));
      return { file, xml: await zipPart(file, 'xl/worksheets/sheet1.xml') };
    };
    const whole = await sheetOf([csv]);
    const bytes: Buffer[] = [];
    for (let i = 0; i < csv.length; i++) bytes.push(csv.subarray(i, i + 1));
    assert.equal((await sheetOf(bytes)).xml, whole.xml, 'a byte at a time');
    for (const cut of [1, 7, 100, csv.length - 1])
      assert.equal((await sheetOf([csv.subarray(0, cut), csv.subarray(cut)])).xml, whole.xml, `cut at ${cut}`);
    // Without the last row's line break, the row is still ended.
    assert.equal((await sheetOf([csv.subarray(0, csv.length - 1)])).xml, whole.xml, 'no final line break');
    const got = await collect(readXlsxRows(whole.file));
    assert.deepEqual(
      got.map((r) => r.row),
      rows.map((r) => expectedRow({ ...r, price: typeof r.price === 'number' && !Number.isFinite(r.price) ? String(r.price) : r.price })),
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
