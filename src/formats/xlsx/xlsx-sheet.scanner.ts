/**
 * Turns a worksheet's XML, fed in chunks, into rows of cell values: only complete `<row>` elements
 * are parsed, the unfinished tail waits for the next chunk. Cells are placed by their reference
 * ("C7" is the third column), so skipped empty cells keep the columns straight. Bounded whatever
 * the sheet holds: a row may be at most {@link XLSX_MAX_ROW_CHARS} of XML, a sheet at most
 * {@link XLSX_MAX_SHEET_ROWS} rows (Excel's own limit), and every scan is linear (see `findElement`).
 */
import { InvalidFileError } from '../../errors.js';
import { attributes, ElementChunker, megabytes, stringItemText } from './xlsx-parts.js';
import { columnIndex, type ElementSpan, elementSpan, findElement, unescapeXml } from './xlsx-xml.js';

/** One row's XML may be at most this long (characters) while it waits for its end tag. */
export const XLSX_MAX_ROW_CHARS = 64 * 1024 * 1024;
/** Excel's last row: a sheet with more `<row>` elements (even empty ones) is not a workbook. */
export const XLSX_MAX_SHEET_ROWS = 1_048_576;

export interface SheetRow {
  /** The sheet's row number (1-based). */
  number: number;
  /** Values by 0-based column; holes and null are empty cells. */
  cells: unknown[];
}

export interface SheetContext {
  sharedStrings: readonly string[];
  dateStyles: readonly boolean[];
  date1904: boolean;
  /** How messages name the sheet: "the first sheet", `sheet "Data"`. */
  label?: string;
}

const MS_PER_DAY = 86_400_000;

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

interface CellAttributes {
  r?: string;
  t?: string;
  s?: string;
}

function isSpaceCode(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * The usual shape of a cell's attributes, ` r="A1" s="1" t="s"` (double quotes, no space by an
 * `=`), read in one pass; false when the tag has another shape, for the general parser.
 */
function usualAttributes(tag: string, out: CellAttributes): boolean {
  const n = tag.length;
  for (let i = 0; i < n; i++) {
    const c = tag.charCodeAt(i);
    if (c === 39 /* ' */) return false;
    if (c !== 61 /* = */) continue;
    if (isSpaceCode(tag.charCodeAt(i - 1)) || tag.charCodeAt(i + 1) !== 34 /* " */) return false;
    const close = tag.indexOf('"', i + 2);
    if (close < 0) return false;
    // A one-letter name after a space: r, s or t.
    if (i >= 2 && isSpaceCode(tag.charCodeAt(i - 2))) {
      const name = tag.charCodeAt(i - 1);
      if (name === 114 /* r */) out.r = tag.slice(i + 2, close);
      else if (name === 115 /* s */) out.s = tag.slice(i + 2, close);
      else if (name === 116 /* t */) out.t = tag.slice(i + 2, close);
    }
    i = close;
  }
  return true;
}

function cellAttributes(tag: string): CellAttributes {
  // The usual shape with a loop over its characters: several times faster than a parser.
  const usual: CellAttributes = {};
  if (usualAttributes(tag, usual)) return usual;
  const out: CellAttributes = {};
  const all = attributes(tag);
  for (const name of ['r', 't', 's'] as const) {
    const v = all.get(name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** The content of the first `<name>` element in `xml`, '' for an empty one, undefined without one. */
function firstElementText(xml: string, name: string, span: ElementSpan): string | undefined {
  if (!findElement(xml, name, 0, span)) return undefined;
  return span.empty ? '' : xml.slice(span.innerStart, span.innerEnd);
}

const IS_T = '<is><t>';
const IS_T_PRESERVE = '<is><t xml:space="preserve">';
const T_IS_END = '</t></is>';

export class SheetScanner {
  private readonly chunker: ElementChunker;
  private lastRow = 0;
  /** `<row>` elements read, numbered or not. */
  private rowsRead = 0;
  private readonly row = elementSpan();
  private readonly cell = elementSpan();
  private readonly inner = elementSpan();
  private readonly label: string;

  constructor(
    private readonly ctx: SheetContext,
    private readonly maxRowChars = XLSX_MAX_ROW_CHARS,
  ) {
    this.label = ctx.label ?? 'the first sheet';
    this.chunker = new ElementChunker(
      'row',
      maxRowChars,
      () => new InvalidFileError(`A row of ${this.label} is larger than ${megabytes(this.maxRowChars)}; the file cannot be read.`),
    );
  }

  /** Adds XML text; returns the rows it completed. */
  push(text: string): SheetRow[] {
    const done = this.chunker.push(text);
    return done ? this.rows(done) : [];
  }

  /** The rows left at the end of the sheet. */
  end(): SheetRow[] {
    return this.rows(this.chunker.end());
  }

  private rows(xml: string): SheetRow[] {
    const out: SheetRow[] = [];
    const row = this.row;
    for (let at = 0; findElement(xml, 'row', at, row); at = row.end) {
      if (++this.rowsRead > XLSX_MAX_SHEET_ROWS) {
        throw new InvalidFileError(
          `${capitalised(this.label)} has more than ${XLSX_MAX_SHEET_ROWS} rows, more than Excel allows; the file is damaged.`,
        );
      }
      const r = cellAttributes(xml.slice(row.attrStart, row.attrEnd)).r;
      const number = r !== undefined && /^\d{1,7}$/.test(r) ? Number(r) : this.lastRow + 1;
      this.lastRow = number;
      out.push({ number, cells: row.empty ? [] : this.cells(xml.slice(row.innerStart, row.innerEnd), number) });
    }
    return out;
  }

  private cells(xml: string, rowNumber: number): unknown[] {
    const cells: unknown[] = [];
    let next = 0;
    const c = this.cell;
    for (let at = 0; findElement(xml, 'c', at, c); at = c.end) {
      const attrs = cellAttributes(xml.slice(c.attrStart, c.attrEnd));
      const ref = attrs.r;
      const col = ref ? columnIndex(ref) : next;
      if (col < 0 || col > 16_383) {
        throw new InvalidFileError(`Row ${rowNumber} of ${this.label} has a cell at "${ref ?? ''}", which is not a cell reference.`);
      }
      next = col + 1;
      cells[col] = c.empty ? null : this.value(attrs, xml, c.innerStart, c.innerEnd, rowNumber, ref ?? '');
    }
    return cells;
  }

  /** The cell's value; its content is `xml[from, to)`. */
  private value(attrs: CellAttributes, xml: string, from: number, to: number, rowNumber: number, ref: string): unknown {
    const t = attrs.t ?? 'n';
    if (t === 'inlineStr') {
      // The usual shape, one plain run: <is><t>text</t></is> (or <t xml:space="preserve">).
      const open = xml.startsWith(IS_T, from) ? IS_T.length : xml.startsWith(IS_T_PRESERVE, from) ? IS_T_PRESERVE.length : 0;
      if (open > 0 && xml.startsWith(T_IS_END, to - T_IS_END.length)) {
        const text = xml.slice(from + open, to - T_IS_END.length);
        if (!text.includes('<')) return unescapeXml(text);
      }
      const is = firstElementText(xml.slice(from, to), 'is', this.inner);
      return is === undefined ? null : stringItemText(is);
    }
    // The usual shape, nothing but <v>text</v>: looked for at the content's ends only, so a cell
    // costs the same whatever follows it.
    let v: string | undefined;
    if (xml.startsWith('<v>', from) && xml.startsWith('</v>', to - 4) && to - 4 >= from + 3) {
      v = xml.slice(from + 3, to - 4);
      if (v.includes('<')) v = undefined;
    }
    if (v === undefined) v = firstElementText(xml.slice(from, to), 'v', this.inner);
    if (v === undefined) return null;
    switch (t) {
      case 's': {
        const s = this.ctx.sharedStrings[Number(v)];
        if (s === undefined)
          throw new InvalidFileError(`Cell ${ref} (row ${rowNumber}) refers to shared string ${v}, which the file does not have.`);
        return s;
      }
      case 'str':
        return unescapeXml(v);
      case 'b':
        return v === '1' || v === 'true';
      case 'e':
        // #N/A, #DIV/0! and the like: no value
        return null;
      case 'd': {
        const d = new Date(unescapeXml(v));
        return Number.isNaN(d.getTime()) ? unescapeXml(v) : d;
      }
      default: {
        if (v === '') return null;
        const n = Number(v);
        if (Number.isNaN(n) && v.trim() !== 'NaN')
          throw new InvalidFileError(`Cell ${ref} (row ${rowNumber}) should hold a number but holds "${v.slice(0, 40)}".`);
        // NaN and ±Infinity (or 1e400) go on as numbers: the row is refused with its column, like any bad value.
        if (!Number.isFinite(n)) return n;
        const s = attrs.s;
        if (s !== undefined && this.ctx.dateStyles[Number(s)]) return this.date(n);
        return n;
      }
    }
  }

  /** An Excel serial day as a Date, to the millisecond (xlsx dates have no zone: read as UTC). */
  private date(serial: number): Date {
    const days = this.ctx.date1904 ? serial - 24_107 : serial - 25_569;
    return new Date(Math.round(days * MS_PER_DAY));
  }
}
