import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { InvalidFileError } from '../../../../src/errors.js';
import { createXlsxExportWriter, isXlsx, readXlsxRows } from '../../../../src/formats/xlsx/index.js';
import { SheetScanner } from '../../../../src/formats/xlsx/xlsx-sheet.scanner.js';
import { type CellInput, workbookOf, xlsxPart } from '../../../helpers/xlsx.js';
import { collect, tempDir } from '../parquet/awkward-rows.js';
import { copyCsvOf } from '../../../helpers/copy-csv.js';

const dir = tempDir('tableport-xlsx-read-');
/** Workbooks SheetJS wrote from SHEET (test/fixtures/formats/generate-sheetjs.cjs). */
const SHEETJS_SST = fixture('sheetjs-sst.xlsx');
const SHEETJS_DATES = fixture('sheetjs-dates.xlsx');

function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../fixtures/formats/${name}`, import.meta.url));
}

const AT = new Date('2024-05-01T12:34:56.789Z');
const DAY = new Date('2024-02-29T00:00:00.000Z');
/** A sheet as a person makes it: a header, mixed types, an empty cell in the middle, CJK and emoji. */
const SHEET: unknown[][] = [
  ['name', 'qty', 'price', 'ok', 'at', 'day', 'note'],
  ['Widget, "large"', 3, 9.5, true, AT, DAY, 'first\nline'],
  ['中文 🚀', -7, 0.1, false, null, DAY, null],
  ['only name'],
  ['repeat', 9007199254740991, -1e-9, true, AT, null, 'repeat'],
];
const EXPECTED = [
  { line: 2, row: { name: 'Widget, "large"', qty: 3, price: 9.5, ok: true, at: AT, day: DAY, note: 'first\nline' } },
  { line: 3, row: { name: '中文 🚀', qty: -7, price: 0.1, ok: false, at: null, day: DAY, note: null } },
  { line: 4, row: { name: 'only name', qty: null, price: null, ok: null, at: null, day: null, note: null } },
  { line: 5, row: { name: 'repeat', qty: 9007199254740991, price: -1e-9, ok: true, at: AT, day: null, note: 'repeat' } },
];

async function refused(file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(collect(readXlsxRows(file)), (err: unknown) => {
    assert.ok(err instanceof InvalidFileError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

/** A zip of the given entries, written by yazl. */
async function zip(name: string, entries: Record<string, string>): Promise<string> {
  const file = join(dir(), name);
  const z = new yazl.ZipFile();
  for (const [path, text] of Object.entries(entries)) z.addBuffer(Buffer.from(text), path);
  z.end();
  await pipeline(z.outputStream, createWriteStream(file));
  return file;
}

/** A workbook of named sheets, written by write-excel-file, saved as `name`. */
async function workbookFile(name: string, sheets: Record<string, readonly (readonly CellInput[])[]>, stickyRows?: number): Promise<string> {
  const file = join(dir(), name);
  await writeFile(file, await workbookOf(sheets, stickyRows ? { stickyRows } : {}));
  return file;
}

describe('readXlsxRows', () => {
  it('reads the first sheet of a SheetJS workbook with shared strings and date-formatted numbers', async () => {
    const entries = (await readFile(SHEETJS_SST)).toString('latin1');
    assert.ok(entries.includes('xl/sharedStrings.xml'), 'has a shared-string table');
    assert.deepEqual(await collect(readXlsxRows(SHEETJS_SST, { sheet: '1' })), EXPECTED);
  });

  it('reads SheetJS cells written as ISO dates (t="d") and strings without a shared table', async () => {
    // Stored, not deflated: the sheet's XML is in the file as it is.
    const bytes = (await readFile(SHEETJS_DATES)).toString('utf8');
    assert.ok(!bytes.includes('xl/sharedStrings.xml'), 'no shared-string table');
    assert.ok(bytes.includes('<c r="E2" s="1" t="d"><v>2024-05-01T12:34:56.789Z</v></c>'), 'an ISO date cell');
    assert.ok(bytes.includes('<c r="A3" t="str"><v>中文 🚀</v></c>'), 'a string cell with its text inside');
    assert.deepEqual(await collect(readXlsxRows(SHEETJS_DATES, { sheet: 'Data' })), EXPECTED);
  });

  it('reads a write-excel-file workbook (shared strings, styles, two date number formats, a frozen header, a second sheet)', async () => {
    // The day column in a format of its own; the instant in the default one (yyyy-mm-dd hh:mm:ss.000).
    const rows = SHEET.map((r, i) =>
      i === 0 ? r : r.map((v, c) => (c === 5 && v instanceof Date ? { value: v, format: 'dd/mm/yyyy' } : v)),
    );
    const file = await workbookFile('write-excel-file.xlsx', { People: rows as CellInput[][], Other: [['x']] }, 1);
    const sheet = await xlsxPart(file, 'xl/worksheets/sheet1.xml');
    assert.match(sheet, /<pane [^>]*state="frozen"/, 'a frozen header row');
    assert.match(await xlsxPart(file, 'xl/sharedStrings.xml'), /<si><t>Widget, "large"<\/t><\/si>/, 'strings in a shared table');
    const styles = await xlsxPart(file, 'xl/styles.xml');
    for (const format of ['yyyy-mm-dd hh:mm:ss.000', 'dd/mm/yyyy']) assert.ok(styles.includes(`formatCode="${format}"`), format);
    // Of two sheets, the one whose header names only the given columns.
    const columns = ['id', 'name', 'qty', 'price', 'ok', 'at', 'day', 'note'];
    assert.deepEqual(await collect(readXlsxRows(file, { columns })), EXPECTED);
  });

  it('chooses among sheets by name, position or header, and refuses a doubt listing them', async () => {
    const file = await workbookFile('sheets.xlsx', {
      Cover: [['Summary']],
      Jan: [
        ['a', 'b'],
        ['Jan', 1],
      ],
      Feb: [
        ['a', 'b'],
        ['Feb', 1],
      ],
    });
    const first = async (opts: object) => (await collect(readXlsxRows(file, opts)))[0]?.row;
    assert.deepEqual(await first({ sheet: 'feb' }), { a: 'Feb', b: 1 });
    assert.deepEqual(await first({ sheet: '2' }), { a: 'Jan', b: 1 });
    assert.deepEqual(await first({ sheet: '1', columns: ['a'] }), undefined);
    await refused(
      file,
      /3 sheets \("Cover", "Jan", "Feb"\) and 2 of them \("Jan", "Feb"\) hold rows; name the one to import in the option "sheet"/,
    );
    await assert.rejects(
      collect(readXlsxRows(file, { columns: ['a', 'b'] })),
      /2 of them \("Jan", "Feb"\) have a header row naming fields/,
    );
    await assert.rejects(collect(readXlsxRows(file, { columns: ['x'] })), /none has a header row naming only fields of the table/);
    await assert.rejects(collect(readXlsxRows(file, { sheet: 'Mar' })), /no sheet "Mar"; its sheets are "Cover", "Jan", "Feb"/);
    assert.deepEqual(await collect(readXlsxRows(file, { sheet: 'Cover' })), []);
  });

  it('reads a workbook saved by openpyxl (what pandas to_excel uses): shared strings, a date format, the first of two sheets', async () => {
    const file = fileURLToPath(new URL('../../../fixtures/formats/openpyxl.xlsx', import.meta.url));
    const sheet = 'Sales';
    const row = (name: unknown, qty: unknown, price: unknown, ok: unknown, at: unknown, note: unknown) => ({
      name,
      qty,
      price,
      ok,
      at,
      note,
    });
    assert.deepEqual(await collect(readXlsxRows(file, { sheet })), [
      { line: 2, row: row('Widget, "large"', 3, 9.5, true, AT, 'first\nline') },
      { line: 3, row: row('中文 🚀', -7, 0.1, false, null, null) },
      { line: 4, row: row('only name', null, null, null, null, null) },
      { line: 5, row: row('repeat', 9007199254740991, -1e-9, true, AT, 'repeat') },
    ]);
  });

  it('reads rich text, formulas (their cached result), error cells and rows with gaps, as LibreOffice writes them', async () => {
    // test/fixtures/formats/libreoffice/rich.xlsx, from rich.fods beside it.
    const file = fixture('libreoffice/rich.xlsx');
    const sheet = await xlsxPart(file, 'xl/worksheets/sheet1.xml');
    assert.match(sheet, /<c r="B2"[^>]*><f[^>]*>1\+1<\/f><v>2<\/v><\/c>/, 'a formula with its cached result');
    assert.match(sheet, /<c r="C2"[^>]*t="e"><f[^>]*>NA\(\)<\/f><v>#N\/A<\/v><\/c>/, 'an error cell');
    assert.match(
      await xlsxPart(file, 'xl/sharedStrings.xml'),
      /<si><r>.*<b val="true"\/>.*bold <\/t><\/r><r>.*plain<\/t><\/r><\/si>/,
      'rich text runs',
    );
    assert.deepEqual(await collect(readXlsxRows(file)), [
      { line: 2, row: { a: 'bold plain', b: 2, c: null } },
      { line: 5, row: { a: 'after a gap', b: null, c: null } },
    ]);
  });

  it('refuses a header that names a column twice, and values under no header', async () => {
    const dup = await workbookFile('dup.xlsx', {
      S: [
        ['a', 'b', 'a'],
        [1, 2, 3],
      ],
    });
    await refused(dup, /The header row \(row 1\) of the first sheet names column "a" twice/);
    const extra = await workbookFile('extra.xlsx', {
      S: [
        ['a', 'b'],
        [1, 2, 3],
      ],
    });
    await refused(extra, /Row 2 of the first sheet has a value in column 3, which has no header/);
  });

  it('refuses a zip that is not a workbook, and a Word document', async () => {
    await refused(await zip('notes.zip', { 'notes.txt': 'hello' }), /The file is a zip archive but not an xlsx workbook/);
    await refused(
      await zip('doc.docx', { '[Content_Types].xml': '<Types/>', 'word/document.xml': '<w:document/>' }),
      /The file is a Word or PowerPoint document, not an xlsx workbook/,
    );
    await refused(await zip('odd.xlsx', { '[Content_Types].xml': '<Types/>', 'docProps/app.xml': '<x/>' }), /it has no workbook part/);
  });

  it('refuses a workbook with no sheet, and one whose first sheet is missing', async () => {
    const rels =
      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>';
    const empty = await zip('nosheet.xlsx', {
      '[Content_Types].xml': '<Types/>',
      '_rels/.rels': rels,
      'xl/workbook.xml': '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>',
    });
    await refused(empty, /The xlsx file has no worksheet/);
    const missing = await zip('missing.xlsx', {
      '[Content_Types].xml': '<Types/>',
      '_rels/.rels': rels,
      'xl/workbook.xml':
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Gone" sheetId="1" r:id="rId1"/></sheets></workbook>',
    });
    await refused(missing, /names a first sheet \("Gone"\) that it does not contain/);
  });

  it('refuses a truncated workbook, a file that is not a zip, and an empty file', async () => {
    const file = join(dir(), 'cut.xlsx');
    await copyFile(SHEETJS_SST, file);
    const size = (await readFile(file)).length;
    await truncate(file, Math.floor(size * 0.6));
    await refused(file, /The xlsx file could not be read; it is damaged or truncated/);
    await writeFile(join(dir(), 'rows.xlsx'), 'name,qty\na,1\n');
    await refused(join(dir(), 'rows.xlsx'), /The file is not an xlsx workbook: it is not a zip archive/);
    await writeFile(join(dir(), 'empty.xlsx'), '');
    await refused(join(dir(), 'empty.xlsx'), /The file is empty/);
  });

  it('reads cells of every shape the same: attributes spaced or single-quoted, prefixes, formulas, runs, preserved spaces', () => {
    const scanner = new SheetScanner({ sharedStrings: ['zero'], dateStyles: [false, true], date1904: false });
    const xml =
      '<row r="2">' +
      '<c r = "A2" t = "s"><v>0</v></c>' +
      "<c t='inlineStr' r='B2'><is><t>single</t></is></c>" +
      '<x:c r="C2"><x:v>5</x:v></x:c>' +
      '<c r="D2" s="1"><f>A1</f><v>45351.5</v></c>' +
      '<c r="E2" t="inlineStr"><is><r><t>a</t></r><r><t xml:space="preserve"> b</t></r></is></c>' +
      '<c r="F2" t="inlineStr"><is><t xml:space="preserve"> y </t></is></c>' +
      '<c r="G2" t="str"><f>"s"&amp;"t"</f><v>s&amp;t</v></c>' +
      '<c r="H2" cm="1" vm="2"><v>8</v></c>' +
      '<c\tr="I2"\tt="b"><v>1</v></c>' +
      '<c r="J2" t="inlineStr"><is><t>&lt;x&gt; _x0041_</t></is></c>' +
      '</row>';
    const rows = [...scanner.push(xml), ...scanner.end()];
    assert.deepEqual(rows, [
      {
        number: 2,
        cells: ['zero', 'single', 5, new Date('2024-02-29T12:00:00.000Z'), 'a b', ' y ', 's&t', 8, true, '<x> A'],
      },
    ]);
  });

  it('refuses a sheet that inflates to another size than its zip entry declares', async () => {
    const file = join(dir(), 'declared.xlsx');
    const columns = [{ name: 'id', type: 'string' as const }];
    await pipeline(Readable.from([Buffer.from('a\nb\n')]), createXlsxExportWriter({ tableName: 't', columns }), createWriteStream(file));
    assert.equal((await collect(readXlsxRows(file))).length, 2);
    // The central directory's record of the sheet: its uncompressed size, 24 bytes in, one byte less.
    const bytes = await readFile(file);
    const record = bytes.lastIndexOf(Buffer.concat([Buffer.from([0x50, 0x4b, 0x01, 0x02])]), bytes.lastIndexOf('xl/worksheets/sheet1.xml'));
    bytes.writeUInt32LE(bytes.readUInt32LE(record + 24) - 1, record + 24);
    await writeFile(file, bytes);
    await refused(file, /damaged or truncated \(xl\/worksheets\/sheet1.xml inflates to \d+ bytes, not the \d+ its entry declares\)/);
  });

  it('refuses a sheet with no rows at all', async () => {
    const file = await workbookFile('empty-sheet.xlsx', { Empty: [] });
    assert.match(await xlsxPart(file, 'xl/worksheets/sheet1.xml'), /<sheetData\/>|<sheetData><\/sheetData>/, 'a sheet with no row');
    await refused(file, /The first sheet is empty: it has no header row/);
  });

  it('stops when the signal is aborted', async () => {
    const file = join(dir(), 'long.xlsx');
    const rows = Array.from({ length: 20_000 }, (_v, i) => ({ id: `r${i}`, n: i }));
    const columns = [
      { name: 'id', type: 'string' as const },
      { name: 'n', type: 'integer' as const },
    ];
    await pipeline(
      Readable.from([Buffer.from(copyCsvOf(rows, columns))]),
      createXlsxExportWriter({ tableName: 't', columns }),
      createWriteStream(file),
    );
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const r of readXlsxRows(file, { signal: ac.signal })) {
          assert.equal(r.line, seen + 2);
          if (++seen === 10) ac.abort(new Error('stop here'));
        }
      })(),
      /stop here/,
    );
    assert.ok(seen < 20_000, `read ${seen} rows`);
  });

  it('isXlsx recognises a workbook by its zip entries, not by its name', async () => {
    const xlsx = await readFile(SHEETJS_SST);
    assert.equal(isXlsx(xlsx.subarray(0, 4096)), true);
    const other = await readFile(await zip('other.zip', { 'a.txt': 'x' }));
    assert.equal(isXlsx(other), false);
    assert.equal(isXlsx(Buffer.from('PAR1')), false);
    assert.equal(isXlsx(Buffer.from('PK\x03\x04')), false);
  });
});
