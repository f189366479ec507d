import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError, TooManyRowsError } from '../../../../src/errors.js';
import type { ExportColumn } from '../../../../src/formats/columnar-types.js';
import { createXlsxExportWriter, readXlsxRows, xlsxSheetName, type XlsxExportWriterOptions } from '../../../../src/formats/xlsx/index.js';
import { cellAt, DATE_FORMAT, firstSheet, readWorkbook, xlsxPart } from '../../../helpers/xlsx.js';
import { AWKWARD_ROWS, COLUMNS, FIELDS, collect, expectedRow, tempDir } from '../parquet/awkward-rows.js';

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
    assert.equal(cellAt(ws, 'A2'), '1900-02-28T23:59:59.999Z');
    // Serial 61 (after Excel's phantom 1900-02-29); read-excel-file reads it back as the day it shows.
    assert.deepEqual(cellAt(ws, 'A3'), new Date('1900-03-01T00:00:00.000Z'));
    assert.deepEqual(await dateFormats(file), [DATE_FORMAT]);
    assert.equal(cellAt(ws, 'A4'), '0001-01-01T00:00:00.000Z');
    assert.deepEqual(
      (await collect(readXlsxRows(file))).map((r) => r.row.at),
      ['1900-02-28T23:59:59.999Z', new Date('1900-03-01T00:00:00.000Z'), '0001-01-01T00:00:00.000Z'],
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
