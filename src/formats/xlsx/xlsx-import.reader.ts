/**
 * Read the first sheet of a local xlsx file as row objects, streaming. The zip is opened by its
 * central directory (yauzl), so the parts a sheet depends on (workbook, styles, shared strings) are
 * read first whatever their order in the file; then the sheet is inflated and scanned chunk by
 * chunk. The first row with a value is the header and gives the keys. Values are native: numbers,
 * booleans, Dates (cells with a date format), strings; empty cells are null. `line` is the sheet's
 * row number, so the header is line 1 and the first data row line 2.
 */
import { stat } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import yauzl from 'yauzl';
import { InvalidFileError } from '../../errors.js';
import type { ColumnarReadOptions, ColumnarRow } from '../columnar-types.js';
import { xlsxHeadProblem } from './xlsx-detect.js';
import { dateStyles, relationships, relsPath, resolveTarget, SharedStringsCollector, workbookInfo } from './xlsx-parts.js';
import { SheetScanner, type SheetContext, type SheetRow } from './xlsx-sheet.scanner.js';

/** Parts other than the sheet and the shared strings are small; a bigger one is not a real workbook. */
const MAX_SMALL_PART = 16 * 1024 * 1024;

type Entries = Map<string, yauzl.Entry>;

function unreadable(err: unknown): InvalidFileError {
  if (err instanceof InvalidFileError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new InvalidFileError(`The xlsx file could not be read; it is damaged or truncated (${why}).`);
}

async function checkHead(path: string): Promise<void> {
  const { size } = await stat(path);
  if (size === 0) throw new InvalidFileError('The file is empty.');
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, 64 * 1024));
    await fh.read(head, 0, head.length, 0);
    const problem = xlsxHeadProblem(head);
    if (problem) throw new InvalidFileError(problem);
  } finally {
    await fh.close();
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

function readEntries(zip: yauzl.ZipFile): Promise<Entries> {
  return new Promise((resolve, reject) => {
    const entries: Entries = new Map();
    zip.on('entry', (e: yauzl.Entry) => {
      // Names are matched without case: some writers spell them "xl/SharedStrings.xml".
      entries.set(e.fileName.replace(/^\//, '').toLowerCase(), e);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

function entryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
}

async function* textChunks(zip: yauzl.ZipFile, entry: yauzl.Entry): AsyncGenerator<string> {
  const stream = await entryStream(zip, entry);
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of stream) yield decoder.write(chunk as Buffer);
    yield decoder.end();
  } finally {
    stream.destroy();
  }
}

async function readSmall(zip: yauzl.ZipFile, entries: Entries, name: string): Promise<string | undefined> {
  const entry = entries.get(name.toLowerCase());
  if (!entry) return undefined;
  if (entry.uncompressedSize > MAX_SMALL_PART) {
    throw new InvalidFileError(`The xlsx part ${name} is larger than 16 MB; the file is not a workbook tableport can read.`);
  }
  let text = '';
  for await (const t of textChunks(zip, entry)) text += t;
  return text;
}

/** Finds the first sheet and reads what its cells refer to. */
async function prepare(zip: yauzl.ZipFile, entries: Entries): Promise<{ sheet: yauzl.Entry; ctx: SheetContext }> {
  const rootRels = relationships((await readSmall(zip, entries, '_rels/.rels')) ?? '');
  const bookTarget = rootRels.find((r) => r.type.endsWith('/officeDocument'))?.target;
  const bookPart = bookTarget ? resolveTarget('', bookTarget) : 'xl/workbook.xml';
  const bookXml = await readSmall(zip, entries, bookPart);
  if (bookXml === undefined)
    throw new InvalidFileError('The zip archive is not an xlsx workbook: it has no workbook part (xl/workbook.xml).');
  const book = workbookInfo(bookXml);
  if (!book.firstSheet) throw new InvalidFileError('The xlsx file has no worksheet.');
  const rels = relationships((await readSmall(zip, entries, relsPath(bookPart))) ?? '');
  const sheetRel = rels.find((r) => r.id === book.firstSheet?.rid);
  const sheetPart = sheetRel ? resolveTarget(bookPart, sheetRel.target) : undefined;
  const sheet = sheetPart ? entries.get(sheetPart.toLowerCase()) : undefined;
  if (!sheet) throw new InvalidFileError(`The xlsx file names a first sheet ("${book.firstSheet.name}") that it does not contain.`);
  if (sheetRel && !sheetRel.type.endsWith('/worksheet')) {
    throw new InvalidFileError(`The first sheet of the xlsx file ("${book.firstSheet.name}") is a chart or macro sheet, not a worksheet.`);
  }

  const part = (suffix: string) => {
    const rel = rels.find((r) => r.type.endsWith(suffix));
    return rel ? resolveTarget(bookPart, rel.target) : undefined;
  };
  const stylesPart = part('/styles');
  const stylesXml = stylesPart ? await readSmall(zip, entries, stylesPart) : undefined;
  const stringsPart = part('/sharedStrings');
  const stringsEntry = stringsPart ? entries.get(stringsPart.toLowerCase()) : undefined;
  const strings = new SharedStringsCollector();
  if (stringsEntry) for await (const t of textChunks(zip, stringsEntry)) strings.push(t);
  return {
    sheet,
    ctx: { sharedStrings: strings.end(), dateStyles: stylesXml ? dateStyles(stylesXml) : [], date1904: book.date1904 },
  };
}

function headerOf(row: SheetRow): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (let c = 0; c < row.cells.length; c++) {
    const v = row.cells[c];
    const key = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v).trim();
    if (key !== '' && seen.has(key))
      throw new InvalidFileError(`The header row (row ${row.number}) of the first sheet names column "${key}" twice.`);
    seen.add(key);
    keys[c] = key;
  }
  return keys;
}

function isEmpty(row: SheetRow): boolean {
  return row.cells.every((v) => v === null || v === undefined || v === '');
}

export async function* readXlsxRows(path: string, opts: ColumnarReadOptions = {}): AsyncIterable<ColumnarRow> {
  const { signal } = opts;
  await checkHead(path);
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (err) {
    throw unreadable(err);
  }
  try {
    let keys: string[] | undefined;
    const toRow = (r: SheetRow): ColumnarRow | undefined => {
      if (isEmpty(r)) return undefined;
      if (keys === undefined) {
        keys = headerOf(r);
        return undefined;
      }
      const row: Record<string, unknown> = {};
      for (let c = 0; c < keys.length; c++) {
        const key = keys[c];
        if (key) row[key] = r.cells[c] ?? null;
      }
      for (let c = keys.length; c < r.cells.length; c++) {
        const v = r.cells[c];
        if (v !== null && v !== undefined && v !== '') {
          throw new InvalidFileError(`Row ${r.number} of the first sheet has a value in column ${c + 1}, which has no header.`);
        }
      }
      return { line: r.number, row };
    };

    let scanner: SheetScanner;
    let sheet: yauzl.Entry;
    try {
      const prepared = await prepare(zip, await readEntries(zip));
      scanner = new SheetScanner(prepared.ctx);
      sheet = prepared.sheet;
    } catch (err) {
      throw unreadable(err);
    }
    const chunks = textChunks(zip, sheet);
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await chunks.next();
      } catch (err) {
        throw unreadable(err);
      }
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('The read was aborted.');
      const rows = next.done ? scanner.end() : scanner.push(next.value);
      for (const r of rows) {
        const out = toRow(r);
        if (out) yield out;
      }
      if (next.done) break;
    }
    if (keys === undefined) throw new InvalidFileError('The first sheet is empty: it has no header row.');
  } finally {
    zip.close();
  }
}
