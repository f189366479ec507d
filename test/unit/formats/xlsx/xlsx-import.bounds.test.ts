/**
 * The xlsx reader against workbooks made to exhaust it: a shared-string table that never ends,
 * rows of start tags without end tags, more rows than Excel has, more zip entries than a workbook
 * has. Each is refused (or read), and a cancelled read stops inside the part it is reading. The
 * quadratic scans these replace took minutes on the same inputs: a test's `timeout` (a bound on a
 * hang, not a measurement) fails them; `npm run bench` measures the speed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidFileError } from '../../../../src/errors.js';
import { readXlsxRows } from '../../../../src/formats/xlsx/index.js';
import { ElementChunker, SharedStringsCollector, stringItemText } from '../../../../src/formats/xlsx/xlsx-parts.js';
import { SheetScanner, XLSX_MAX_SHEET_ROWS } from '../../../../src/formats/xlsx/xlsx-sheet.scanner.js';
import { endlessSharedString, repeated, xlsxWith } from '../../../helpers/hostile-files.js';
import { collect, tempDir } from '../parquet/awkward-rows.js';

const dir = tempDir('tableport-xlsx-bounds-');
const MB = 1024 * 1024;
/** A bound on a hang (the quadratic scans took minutes), not a measurement. */
const HANG = { timeout: 60_000 };
const SST_HEAD = '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">';

/** Runs `work` (the hostile input's whole read). */
async function run<T>(work: () => Promise<T> | T): Promise<T> {
  return await work();
}

async function refusedWith(file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(collect(readXlsxRows(file)), (err: unknown) => {
    assert.ok(err instanceof InvalidFileError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

/** Text in chunks of `size` characters, as an inflating part arrives. */
function* chunks(text: string, size = 16 * 1024): Generator<string> {
  for (let at = 0; at < text.length; at += size) yield text.slice(at, at + size);
}

describe('xlsx reader bounds', () => {
  it('refuses a 300 KB workbook whose shared string inflates to 300 MB, naming the part and the limit', HANG, async () => {
    const file = join(dir(), 'sst-bomb.xlsx');
    await xlsxWith(file, endlessSharedString(300 * MB));
    await run(() => refusedWith(file, /shared strings of the xlsx file \(xl\/sharedStrings\.xml\) are larger than the limit of 64 MB/));
  });

  it('counts shared strings while they inflate, whatever the zip entry declares', () => {
    const strings = new SharedStringsCollector('xl/sharedStrings.xml', 4 * MB);
    strings.push(`${SST_HEAD}<si><t>`);
    assert.throws(
      () => {
        for (const c of chunks('a'.repeat(5 * MB))) strings.push(c);
      },
      (err: unknown) => err instanceof InvalidFileError && /larger than the limit of 4 MB/.test(err.message),
    );
  });

  it('collects 60 MB of one unfinished shared string in linear time: each chunk is searched once', HANG, async () => {
    // The old collector searched its whole buffer for </si> on every 16 KB chunk: 3,840 searches of up to 60 MB.
    const strings = new SharedStringsCollector();
    await run(() => {
      strings.push(`${SST_HEAD}<si><t>`);
      for (const c of chunks('b'.repeat(60 * MB))) strings.push(c);
      strings.push('</t></si><si><t>second</t></si></sst>');
    });
    const table = strings.end();
    assert.equal(table.length, 2);
    assert.equal(table[0]?.length, 60 * MB);
    assert.equal(table[1], 'second');
  });

  it('finds end tags cut between chunks, with or without a namespace prefix, and empty items', () => {
    const xml = `${SST_HEAD}<x:si><x:t>one</x:t></x:si><si/><si><r><t>tw</t></r><r><t xml:space="preserve">o </t></r><rPh><t>ignored</t></rPh></si><si><t>&amp;&#x1F680;&#x110000;</t></si></sst>`;
    for (const size of [1, 2, 3, 7, 64]) {
      const strings = new SharedStringsCollector();
      for (const c of chunks(xml, size)) strings.push(c);
      assert.deepEqual(strings.end(), ['one', '', 'two ', '&🚀&#x110000;'], `chunks of ${size}`);
    }
    const chunker = new ElementChunker('row', 100, () => new Error('too large'));
    assert.equal(chunker.push('<row>a</ro'), '');
    assert.equal(chunker.push('w><row>b</row><row>c'), '<row>a</row><row>b</row>');
    assert.equal(chunker.push('<c r="C1"/></row><row r="9"'), '<row>c<c r="C1"/></row>');
    assert.equal(chunker.push('/><rowx/><row>'), '<row r="9"/>');
    assert.equal(chunker.end(), '<rowx/><row>');
    assert.equal(stringItemText('<t>a</t><rPh><t>no</t></rPh><t>b</t><rPh><t>no</t></rPh>'), 'ab');
  });

  it('reads a row of 2 MB of start tags without end tags in linear time, and the rows after it', HANG, async () => {
    // <c><c><c>…: a regular expression retried from every <c> scanned the rest of the row each time.
    const file = join(dir(), 'open-cells.xlsx');
    const sheet =
      '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' +
      '<row r="1"><c r="A1" t="inlineStr"><is><t>title</t></is></c></row>' +
      `<row r="2">${'<c><v><is>'.repeat(200_000)}</row>` +
      '<row r="3"><c r="A3" t="inlineStr"><is><t>after</t></is></c></row></sheetData></worksheet>';
    await xlsxWith(file, `${SST_HEAD}</sst>`, sheet);
    const rows = await run(() => collect(readXlsxRows(file)));
    assert.deepEqual(rows, [{ line: 3, row: { title: 'after' } }]);
  });

  it('refuses a sheet with more row elements than Excel has rows, empty or not', () => {
    for (const row of ['<row r="1"/>', '<x:row></x:row>']) {
      const scanner = new SheetScanner({ sharedStrings: [], dateStyles: [], date1904: false });
      let rows = 0;
      assert.throws(
        () => {
          for (let i = 0; i <= XLSX_MAX_SHEET_ROWS; i += 100_000) rows += scanner.push(row.repeat(100_000)).length;
        },
        (err: unknown) => err instanceof InvalidFileError && /more than 1048576 rows/.test(err.message),
        row,
      );
      // Empty rows are handed out as they come, not held until the sheet ends.
      assert.ok(rows >= XLSX_MAX_SHEET_ROWS - 100_000, `${row}: ${rows} rows handed out`);
    }
  });

  it('refuses a row larger than its cap while it waits for its end tag', () => {
    const scanner = new SheetScanner({ sharedStrings: [], dateStyles: [], date1904: false }, MB);
    scanner.push('<row r="1"><c r="A1"><v>');
    assert.throws(
      () => {
        for (const c of chunks('9'.repeat(2 * MB))) scanner.push(c);
      },
      (err: unknown) => err instanceof InvalidFileError && /A row of the first sheet is larger than 1 MB/.test(err.message),
    );
  });

  it('gives NaN and Infinity cells as numbers (the import refuses their row), and refuses other text in a number cell', async () => {
    const file = join(dir(), 'nan.xlsx');
    const sheet =
      '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' +
      '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>' +
      '<row r="2"><c r="A2"><v>NaN</v></c></row><row r="3"><c r="A3"><v>-Infinity</v></c></row><row r="4"><c r="A4"><v>1e400</v></c></row>' +
      '</sheetData></worksheet>';
    await xlsxWith(file, `${SST_HEAD}</sst>`, sheet);
    const rows = await collect(readXlsxRows(file));
    assert.deepEqual(
      rows.map((r) => r.row.x),
      [Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
    );
    const bad = join(dir(), 'text-number.xlsx');
    await xlsxWith(bad, `${SST_HEAD}</sst>`, sheet.replace('<v>NaN</v>', '<v>abc</v>'));
    await refusedWith(bad, /Cell A2 \(row 2\) should hold a number but holds "abc"/);
  });

  it('stops reading the shared strings at the next chunk once the signal is aborted', HANG, async () => {
    // 60 MB of small strings, under the cap: read whole, they take a while; the abort must not wait for them.
    const file = join(dir(), 'many-strings.xlsx');
    await xlsxWith(file, repeated(60 * MB, 0x78, `${SST_HEAD}<si><t>`, '</t></si></sst>'));
    const ac = new AbortController();
    const reading = collect(readXlsxRows(file, { signal: ac.signal }));
    setImmediate(() => ac.abort(new Error('cancelled by the user')));
    await run(() => assert.rejects(reading, /cancelled by the user/));
  });
});
