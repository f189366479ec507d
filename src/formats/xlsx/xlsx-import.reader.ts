/**
 * Read one sheet of a local xlsx file as row objects, streaming (which one: see `chooseSheet`). The zip is opened by its
 * central directory (yauzl), so the parts a sheet depends on (workbook, styles, shared strings) are
 * read first whatever their order in the file; then the sheet is inflated and scanned chunk by
 * chunk. The first row with a value is the header and gives the keys. Values are native: numbers,
 * booleans, Dates (cells with a date format), strings; empty cells are null. `line` is the sheet's
 * row number, so the header is line 1 and the first data row line 2.
 *
 * Bounded whatever the file holds: each part is inflated only up to a cap (checked against the
 * size its zip entry declares before inflating, and counted while inflating), the shared strings
 * and a waiting row are capped (see the collector and the scanner), and every loop stops at the
 * next chunk once the job's signal is aborted.
 */
import { stat } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createInflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import { InvalidFileError } from '../../errors.js';
import type { ColumnarReadOptions, ColumnarRow } from '../columnar-types.js';
import { xlsxHeadProblem } from './xlsx-detect.js';
import {
  dateStyles,
  megabytes,
  relationships,
  relsPath,
  resolveTarget,
  SharedStringsCollector,
  workbookInfo,
  XLSX_MAX_SHARED_STRINGS_BYTES,
} from './xlsx-parts.js';
import { SheetScanner, type SheetContext, type SheetRow } from './xlsx-sheet.scanner.js';

/** Parts other than the sheet and the shared strings are small; a bigger one is not a real workbook. */
const MAX_SMALL_PART = 16 * 1024 * 1024;
/**
 * The first sheet's XML may inflate to at most this much. Rows are capped too (Excel's 1,048,576),
 * but rows of white space or skipped elements are not: this bounds the time a zip bomb can take.
 */
export const XLSX_MAX_SHEET_BYTES = 4 * 1024 * 1024 * 1024;
/** An xlsx package holds a few dozen parts; a zip with more entries than this is not a workbook. */
const MAX_ENTRIES = 10_000;

type Entries = Map<string, yauzl.Entry>;

/** A failure to read the file in words for the user; the abort of the job passes as it is. */
function unreadable(err: unknown, signal: AbortSignal | undefined): unknown {
  if (err instanceof InvalidFileError || signal?.aborted) return err;
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
  if (zip.entryCount > MAX_ENTRIES) {
    return Promise.reject(
      new InvalidFileError(
        `The zip archive has ${zip.entryCount} entries; an xlsx workbook has far fewer (at most ${MAX_ENTRIES} are read).`,
      ),
    );
  }
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

/**
 * An entry's bytes as they inflate. yauzl's own inflate hands them out in zlib's default 16 KiB
 * pieces, each a callback and a Buffer: a fifth of a 1M-row import's time went there. So the entry
 * is read as stored and inflated here in 256 KiB pieces (`textChunks` checks the size it declares,
 * as yauzl's `validateEntrySizes` did).
 */
async function entryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw new InvalidFileError(
      `The xlsx part ${entry.fileName} is compressed with method ${entry.compressionMethod}, which no workbook uses.`,
    );
  }
  const deflated = entry.compressionMethod === 8;
  const raw = await new Promise<Readable>((resolve, reject) =>
    zip.openReadStream(entry, deflated ? { decompress: false } : {}, (err, s) => (err ? reject(err) : resolve(s))),
  );
  if (!deflated) return raw;
  const inflate = createInflateRaw({ chunkSize: 256 * 1024 });
  raw.on('error', (err) => inflate.destroy(err));
  inflate.on('close', () => raw.destroy());
  return raw.pipe(inflate);
}

function partTooLarge(name: string, limit: number): InvalidFileError {
  return new InvalidFileError(
    `The xlsx part ${name} inflates to more than the limit of ${megabytes(limit)}; the file is not a workbook tableport can read.`,
  );
}

/**
 * A part's text as it inflates. Refused before inflating when its entry declares more than `limit`
 * bytes, and while inflating once more than that came out (yauzl also holds an entry to its
 * declared size). Stops at the next chunk once `signal` is aborted.
 */
async function* textChunks(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  limit: number,
  signal: AbortSignal | undefined,
  tooLarge: () => Error = () => partTooLarge(entry.fileName, limit),
): AsyncGenerator<string> {
  signal?.throwIfAborted();
  if (entry.uncompressedSize > limit) throw tooLarge();
  const stream = await entryStream(zip, entry);
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  try {
    for await (const chunk of stream) {
      signal?.throwIfAborted();
      bytes += (chunk as Buffer).length;
      if (bytes > limit) throw tooLarge();
      yield decoder.write(chunk as Buffer);
    }
    // A deflated entry as yauzl's validateEntrySizes checked it (stored ones yauzl checks itself).
    if (entry.compressionMethod === 8 && bytes !== entry.uncompressedSize) {
      throw new Error(`${entry.fileName} inflates to ${bytes} bytes, not the ${entry.uncompressedSize} its entry declares`);
    }
    yield decoder.end();
  } finally {
    stream.destroy();
  }
}

async function readSmall(zip: yauzl.ZipFile, entries: Entries, name: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  const entry = entries.get(name.toLowerCase());
  if (!entry) return undefined;
  let text = '';
  for await (const t of textChunks(zip, entry, MAX_SMALL_PART, signal)) text += t;
  return text;
}

/** A worksheet of the workbook: its name, position (1-based) and zip entry. */
interface SheetRef {
  name: string;
  position: number;
  entry: yauzl.Entry;
}

/** The workbook's worksheets (chart and macro sheets left out) and what their cells refer to. */
async function prepare(
  zip: yauzl.ZipFile,
  entries: Entries,
  signal: AbortSignal | undefined,
): Promise<{ sheets: SheetRef[]; ctx: SheetContext }> {
  const readPart = (name: string) => readSmall(zip, entries, name, signal);
  const rootRels = relationships((await readPart('_rels/.rels')) ?? '');
  const bookTarget = rootRels.find((r) => r.type.endsWith('/officeDocument'))?.target;
  const bookPart = bookTarget ? resolveTarget('', bookTarget) : 'xl/workbook.xml';
  const bookXml = await readPart(bookPart);
  if (bookXml === undefined)
    throw new InvalidFileError('The zip archive is not an xlsx workbook: it has no workbook part (xl/workbook.xml).');
  const book = workbookInfo(bookXml);
  if (!book.firstSheet) throw new InvalidFileError('The xlsx file has no worksheet.');
  const rels = relationships((await readPart(relsPath(bookPart))) ?? '');
  const sheets: SheetRef[] = [];
  for (const [i, s] of book.sheets.entries()) {
    const rel = rels.find((r) => r.id === s.rid);
    const part = rel ? resolveTarget(bookPart, rel.target) : undefined;
    const entry = part ? entries.get(part.toLowerCase()) : undefined;
    const which = book.sheets.length === 1 || i === 0 ? 'a first sheet' : 'a sheet';
    if (!entry) throw new InvalidFileError(`The xlsx file names ${which} ("${s.name}") that it does not contain.`);
    if (rel && !rel.type.endsWith('/worksheet')) {
      if (book.sheets.length === 1)
        throw new InvalidFileError(`The first sheet of the xlsx file ("${s.name}") is a chart or macro sheet, not a worksheet.`);
      continue;
    }
    sheets.push({ name: s.name, position: i + 1, entry });
  }
  if (!sheets.length) throw new InvalidFileError('The xlsx file has no worksheet, only chart or macro sheets.');

  const part = (suffix: string) => {
    const rel = rels.find((r) => r.type.endsWith(suffix));
    return rel ? resolveTarget(bookPart, rel.target) : undefined;
  };
  const stylesPart = part('/styles');
  const stylesXml = stylesPart ? await readPart(stylesPart) : undefined;
  const stringsPart = part('/sharedStrings');
  const stringsEntry = stringsPart ? entries.get(stringsPart.toLowerCase()) : undefined;
  const strings = new SharedStringsCollector(stringsEntry?.fileName);
  if (stringsEntry) {
    for await (const t of textChunks(zip, stringsEntry, XLSX_MAX_SHARED_STRINGS_BYTES, signal, () => strings.tooLarge())) strings.push(t);
  }
  return {
    sheets,
    ctx: { sharedStrings: strings.end(), dateStyles: stylesXml ? dateStyles(stylesXml) : [], date1904: book.date1904 },
  };
}

/** How messages name a sheet: a workbook of one sheet has "the first sheet", others name it. */
function labelOf(sheet: SheetRef, count: number): string {
  return count === 1 ? 'the first sheet' : `sheet "${sheet.name}"`;
}

const SHEET_HINT = 'name the one to import in the option "sheet" (its name, or its position from 1)';

/** Thrown for a `sheet` the workbook does not have: the request's parameter is wrong, not the file. */
export class UnknownSheetError extends InvalidFileError {
  override name = 'UnknownSheetError';
}

/** A sheet's header keys (its first row with a value) and whether a row with a value follows; undefined when it cannot be read so. */
async function sheetLook(
  zip: yauzl.ZipFile,
  sheet: SheetRef,
  ctx: SheetContext,
  signal: AbortSignal | undefined,
): Promise<{ header: string[]; rows: boolean } | undefined> {
  const scanner = new SheetScanner(ctx);
  let header: string[] | undefined;
  const take = (rows: SheetRow[]): boolean => {
    for (const r of rows) {
      if (isEmpty(r)) continue;
      if (header) return true;
      header = headerOf(r, 'the sheet').filter((k) => k !== '');
    }
    return false;
  };
  try {
    for await (const text of textChunks(zip, sheet.entry, XLSX_MAX_SHEET_BYTES, signal)) {
      if (take(scanner.push(text))) return { header: header ?? [], rows: true };
    }
    const rows = take(scanner.end());
    return header ? { header, rows } : undefined;
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
}

/**
 * The sheet to read: the one named (by name, then by position), the only one, or else the one
 * whose header names only columns of the table (without the table's columns: the one sheet that
 * holds rows). Sheets of a header alone are no rows left out. None or several such is refused
 * listing the sheets: a workbook is never imported in part without a word.
 */
async function chooseSheet(zip: yauzl.ZipFile, sheets: SheetRef[], ctx: SheetContext, opts: XlsxReadOptions): Promise<SheetRef> {
  const list = sheets.map((s) => JSON.stringify(s.name)).join(', ');
  const want = opts.sheet;
  if (want !== undefined) {
    const found =
      sheets.find((s) => s.name === want) ??
      sheets.find((s) => s.name.trim().toLowerCase() === want.trim().toLowerCase()) ??
      (/^\d{1,5}$/.test(want.trim()) ? sheets.find((s) => s.position === Number(want.trim())) : undefined);
    if (found) return found;
    throw new UnknownSheetError(
      `The workbook has no sheet ${JSON.stringify(want)}; its ${sheets.length === 1 ? 'sheet is' : 'sheets are'} ${list}: give one of these names, or a position from 1 to ${sheets.length}.`,
    );
  }
  const only = sheets[0] as SheetRef;
  if (sheets.length === 1) return only;
  const known = opts.columns ? new Set(opts.columns) : undefined;
  const matching: SheetRef[] = [];
  const withRows: SheetRef[] = [];
  for (const s of sheets) {
    const look = await sheetLook(zip, s, ctx, opts.signal);
    if (!look) continue;
    const match = known ? look.header.length > 0 && look.header.every((k) => known.has(k)) : look.rows;
    if (match) matching.push(s);
    if (match && look.rows) withRows.push(s);
  }
  if (matching.length === 1) return matching[0] as SheetRef;
  if (matching.length > 1 && withRows.length === 1) return withRows[0] as SheetRef;
  if (!known) {
    const which = matching.length
      ? `${matching.length} of them (${matching.map((s) => JSON.stringify(s.name)).join(', ')}) hold rows`
      : 'none holds rows';
    throw new InvalidFileError(`The workbook has ${sheets.length} sheets (${list}) and ${which}; ${SHEET_HINT}.`);
  }
  if (matching.length === 0) {
    throw new InvalidFileError(
      `The workbook has ${sheets.length} sheets (${list}) and none has a header row naming only fields of the table; ${SHEET_HINT}.`,
    );
  }
  throw new InvalidFileError(
    `The workbook has ${sheets.length} sheets and ${matching.length} of them (${matching.map((s) => JSON.stringify(s.name)).join(', ')}) have a header row naming fields of the table; ${SHEET_HINT}, and import the others one by one.`,
  );
}

/** What the xlsx reader is told: which sheet, or the table's columns to find it by. */
export interface XlsxReadOptions extends ColumnarReadOptions {
  /** The sheet's name or 1-based position (as text, as forms send it). */
  sheet?: string;
  /** The columns the table takes (built-ins and fields): a workbook of several sheets is read from the one whose header names only these. */
  columns?: readonly string[];
}

/** The names of a workbook's worksheets, in the order of its tabs. */
export async function listXlsxSheets(path: string, opts: ColumnarReadOptions = {}): Promise<string[]> {
  await checkHead(path);
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (err) {
    throw unreadable(err, opts.signal);
  }
  try {
    return (await prepare(zip, await readEntries(zip), opts.signal)).sheets.map((s) => s.name);
  } catch (err) {
    throw unreadable(err, opts.signal);
  } finally {
    zip.close();
  }
}

/**
 * The name of the sheet an import of this workbook reads (see `chooseSheet`), checked before the
 * job is queued; a `sheet` the workbook does not have is an `UnknownSheetError`.
 */
export async function chooseXlsxSheet(path: string, opts: XlsxReadOptions = {}): Promise<string> {
  await checkHead(path);
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (err) {
    throw unreadable(err, opts.signal);
  }
  try {
    let prepared: Awaited<ReturnType<typeof prepare>>;
    try {
      prepared = await prepare(zip, await readEntries(zip), opts.signal);
    } catch (err) {
      throw unreadable(err, opts.signal);
    }
    return (await chooseSheet(zip, prepared.sheets, prepared.ctx, opts)).name;
  } finally {
    zip.close();
  }
}

function headerOf(row: SheetRow, label: string): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (let c = 0; c < row.cells.length; c++) {
    const v = row.cells[c];
    const key = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v).trim();
    if (key !== '' && seen.has(key))
      throw new InvalidFileError(`The header row (row ${row.number}) of ${label} names column "${key}" twice.`);
    seen.add(key);
    keys[c] = key;
  }
  return keys;
}

function isEmpty(row: SheetRow): boolean {
  return row.cells.every((v) => v === null || v === undefined || v === '');
}

export async function* readXlsxRows(path: string, opts: XlsxReadOptions = {}): AsyncIterable<ColumnarRow> {
  const { signal } = opts;
  await checkHead(path);
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (err) {
    throw unreadable(err, signal);
  }
  try {
    let keys: string[] | undefined;
    let label = 'the first sheet';
    const toRow = (r: SheetRow): ColumnarRow | undefined => {
      if (isEmpty(r)) return undefined;
      if (keys === undefined) {
        keys = headerOf(r, label);
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
          throw new InvalidFileError(`Row ${r.number} of ${label} has a value in column ${c + 1}, which has no header.`);
        }
      }
      return { line: r.number, row };
    };

    let scanner: SheetScanner;
    let sheet: yauzl.Entry;
    try {
      const prepared = await prepare(zip, await readEntries(zip), signal);
      const chosen = await chooseSheet(zip, prepared.sheets, prepared.ctx, opts);
      label = labelOf(chosen, prepared.sheets.length);
      scanner = new SheetScanner({ ...prepared.ctx, label });
      sheet = chosen.entry;
    } catch (err) {
      throw unreadable(err, signal);
    }
    const chunks = textChunks(zip, sheet, XLSX_MAX_SHEET_BYTES, signal);
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await chunks.next();
      } catch (err) {
        throw unreadable(err, signal);
      }
      const rows = next.done ? scanner.end() : scanner.push(next.value);
      for (const r of rows) {
        const out = toRow(r);
        if (out) yield out;
      }
      if (next.done) break;
    }
    if (keys === undefined) throw new InvalidFileError(`${label.charAt(0).toUpperCase()}${label.slice(1)} is empty: it has no header row.`);
  } finally {
    zip.close();
  }
}
