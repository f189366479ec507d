import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { InvalidParameterError, TooManyRowsError } from '../../../../src/errors.js';
import type { ExportColumn } from '../../../../src/formats/columnar-types.js';
import { createXlsxExportWriter, readXlsxRows, xlsxSheetName, type XlsxExportWriterOptions } from '../../../../src/formats/xlsx/index.js';
import { crc32InJavaScript } from '../../../../src/formats/xlsx/xlsx-zip.js';
import { copyCsvOf } from '../../../helpers/copy-csv.js';
import { cellAt, DATE_FORMAT, firstSheet, readWorkbook, xlsxPart } from '../../../helpers/xlsx.js';
import { AWKWARD_ROWS, COLUMNS, collect, expectedRow, tempDir } from '../parquet/awkward-rows.js';

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

/** The number format that xl/styles.xml gives dates, read from the file's bytes (read-excel-file only says a cell is a date). */
async function dateFormats(file: string): Promise<string[]> {
  const styles = await xlsxPart(file, 'xl/styles.xml');
  return [...styles.matchAll(/<numFmt\b[^>]*\bformatCode="([^"]*)"/g)].map((m) => m[1] ?? '');
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

  it('writes a sheet read-excel-file reads: named after the table, header row, real numbers, booleans, date cells as dates and text', async () => {
    const file = await writeXlsx(AWKWARD_ROWS, { tableName: 'orders/2024: [draft]' });
    const sheets = await readWorkbook(file);
    assert.deepEqual(
      sheets.map((w) => w.name),
      ['orders_2024_ _draft_'],
    );
    const [ws] = sheets;
    assert.ok(ws);
    assert.deepEqual(
      ws.rows[0],
      COLUMNS.map((c) => c.name),
    );
    // r1 is row 2: A id, B created_at, E title, F qty, G price, H ok, I at, J tags, K meta.
    // Strict equality: a number stored as text would read as a string, and the reverse.
    assert.equal(cellAt(ws, 'A2'), 'r1');
    assert.equal(cellAt(ws, 'B2'), 1700000000);
    assert.equal(cellAt(ws, 'F2'), 9007199254740991);
    assert.equal(cellAt(ws, 'F3'), -9007199254740991);
    assert.equal(cellAt(ws, 'G3'), -0.000123);
    assert.equal(cellAt(ws, 'H2'), true);
    assert.equal(cellAt(ws, 'H3'), false);
    // A date is a number with a date format; read-excel-file turns it into the instant it shows.
    assert.deepEqual(cellAt(ws, 'I2'), new Date('2024-05-01T12:00:00.123Z'));
    assert.deepEqual(cellAt(ws, 'I8'), new Date('2024-12-31T23:59:59.999Z'));
    assert.deepEqual(await dateFormats(file), [DATE_FORMAT], 'dates show to the millisecond');
    // Text as Excel shows it: read-excel-file decodes ECMA-376's _xHHHH_ escapes (Part 1, 22.9.2.19
    // ST_Xstring) for what XML cannot carry (CR, controls) and _x005F_ before a literal _xHHHH_.
    assert.equal(cellAt(ws, 'E2'), 'comma, "quote" and \'single\'');
    assert.equal(cellAt(ws, 'E3'), 'line\nbreak and\r\nCRLF and\ttab');
    assert.equal(cellAt(ws, 'E4'), '中文 한국어 日本語 🚀👩‍👩‍👧 emoji');
    assert.equal(cellAt(ws, 'E8'), '<xml> & entities &amp; _x0041_ \u0001 control');
    assert.equal(cellAt(ws, 'J2'), '["a","b,c"]');
    assert.equal(cellAt(ws, 'K2'), '{"k":"v","n":[1,{"deep":true}]}');
    // nulls are empty cells, not empty strings
    assert.equal(cellAt(ws, 'F5'), null);
    assert.equal(cellAt(ws, 'L2'), null);
  });

  it('streams: zip bytes leave while rows are still coming', async () => {
    const columns: ExportColumn[] = [
      { name: 'id', type: 'string' },
      { name: 'n', type: 'integer' },
    ];
    // ~17 MB of sheet XML: several of the writer's 2 MiB Buffers (zlib first writes after ~80,000 rows of it).
    const rows = 150_000;
    let read = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < rows; i++) {
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
    assert.ok(firstAt >= 0 && firstAt < rows, `first bytes after ${firstAt} rows`);
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
    const xml = await xlsxPart(file, 'xl/worksheets/sheet1.xml');
    for (const [i, [at, serial]] of days.entries())
      assert.ok(xml.includes(`<c r="A${i + 2}" s="1"><v>${serial}</v></c>`), `${at}: serial ${serial}`);
    assert.equal((xml.match(/ s="1"><v>/g) ?? []).length, all.length, 'every date is a date cell');
    // Read back to the millisecond.
    assert.deepEqual(
      (await collect(readXlsxRows(file))).map((r) => (r.row.at as Date).toISOString()),
      all,
    );
    // read-excel-file reads the same instants (from 1900-03-01 on, Excel shows the same days).
    const ws = await firstSheet(file);
    assert.equal(ws.name, 'orders');
    assert.deepEqual(cellAt(ws, 'A8'), new Date('1900-03-01T00:00:00.000Z'));
    assert.deepEqual(cellAt(ws, 'A3'), new Date('1000-01-01T00:00:00.000Z'));
    assert.deepEqual(await dateFormats(file), [DATE_FORMAT]);
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
    const xml = await xlsxPart(file, 'xl/worksheets/sheet1.xml');
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
      return { file, xml: await xlsxPart(file, 'xl/worksheets/sheet1.xml') };
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
    assert.deepEqual(ws.rows, [COLUMNS.map((c) => c.name)]);
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

describe('the zip records', () => {
  it("computes the CRC-32 of Node 20 releases without zlib's as zlib does, in pieces too", () => {
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_v, i) => (i * 7919 + (i >> 3)) & 0xff));
    assert.equal(crc32InJavaScript(Buffer.alloc(0)), 0);
    assert.equal(crc32InJavaScript(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32InJavaScript(bytes), zlib.crc32(bytes));
    assert.equal(crc32InJavaScript(bytes.subarray(40_000), crc32InJavaScript(bytes.subarray(0, 40_000))), zlib.crc32(bytes));
  });
});
