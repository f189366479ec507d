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

function quoted(tag: string, name: string): string | undefined {
  const at = tag.indexOf(` ${name}="`);
  if (at < 0) return undefined;
  const from = at + name.length + 3;
  return tag.slice(from, tag.indexOf('"', from));
}

/** Whether white space stands beside an `=` (`r = "A1"`), which the usual shape's indexOf would miss. */
function spaceByEquals(tag: string): boolean {
  for (let at = tag.indexOf('='); at !== -1; at = tag.indexOf('=', at + 1)) {
    const before = tag.charCodeAt(at - 1);
    const after = tag.charCodeAt(at + 1);
    if (before === 32 || before === 9 || before === 10 || before === 13 || after === 32 || after === 9 || after === 10 || after === 13)
      return true;
  }
  return false;
}

function cellAttributes(tag: string): CellAttributes {
  // The usual shape, r="A1" s="1" t="s" with double quotes: indexOf is several times faster than a parser.
  const out: CellAttributes = {};
  if (!tag.includes("'") && !spaceByEquals(tag)) {
    const r = quoted(tag, 'r');
    const t = quoted(tag, 't');
    const s = quoted(tag, 's');
    if (r !== undefined) out.r = r;
    if (t !== undefined) out.t = t;
    if (s !== undefined) out.s = s;
    return out;
  }
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
      cells[col] = c.empty ? null : this.value(attrs, xml.slice(c.innerStart, c.innerEnd), rowNumber, ref ?? '');
    }
    return cells;
  }

  private value(attrs: CellAttributes, inner: string, rowNumber: number, ref: string): unknown {
    const t = attrs.t ?? 'n';
    if (t === 'inlineStr') {
      const is = firstElementText(inner, 'is', this.inner);
      return is === undefined ? null : stringItemText(is);
    }
    const v = firstElementText(inner, 'v', this.inner);
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
