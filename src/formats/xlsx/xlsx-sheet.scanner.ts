/**
 * Turns a worksheet's XML, fed in chunks, into rows of cell values: only complete `<row>` elements
 * are parsed, the unfinished tail waits for the next chunk. Cells are placed by their reference
 * ("C7" is the third column), so skipped empty cells keep the columns straight.
 */
import { InvalidFileError } from '../../errors.js';
import { afterLastClose, stringItemText } from './xlsx-parts.js';
import { columnIndex, unescapeXml } from './xlsx-xml.js';

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
}

const ROW = /<(?:[\w.-]+:)?row\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:[\w.-]+:)?row>)/g;
const CELL = /<(?:[\w.-]+:)?c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:[\w.-]+:)?c>)/g;
const VALUE = /<(?:[\w.-]+:)?v(?:\s[^>]*)?>([^<]*)<\/(?:[\w.-]+:)?v>/;
const INLINE = /<(?:[\w.-]+:)?is(?:\s[^>]*)?>([\s\S]*?)<\/(?:[\w.-]+:)?is>/;
const ROW_NUMBER = /\br\s*=\s*["'](\d+)["']/;
/** The three attributes of a cell that matter: reference, type, style. */
const CELL_ATTR = /(?:^|\s)([rts])\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const MS_PER_DAY = 86_400_000;

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

function cellAttributes(tag: string): CellAttributes {
  // The usual shape, r="A1" s="1" t="s" with double quotes: indexOf is several times faster than a regex loop.
  if (!tag.includes("'") && !/\s=|=\s/.test(tag)) {
    const out: CellAttributes = {};
    const r = quoted(tag, 'r');
    const t = quoted(tag, 't');
    const s = quoted(tag, 's');
    if (r !== undefined) out.r = r;
    if (t !== undefined) out.t = t;
    if (s !== undefined) out.s = s;
    return out;
  }
  const out: CellAttributes = {};
  CELL_ATTR.lastIndex = 0;
  for (let m = CELL_ATTR.exec(tag); m; m = CELL_ATTR.exec(tag)) out[m[1] as 'r' | 't' | 's'] = m[2] ?? m[3] ?? '';
  return out;
}

export class SheetScanner {
  private rest = '';
  private lastRow = 0;

  constructor(private readonly ctx: SheetContext) {}

  /** Adds XML text; returns the rows it completed. */
  push(text: string): SheetRow[] {
    this.rest += text;
    const end = afterLastClose(this.rest, 'row');
    if (end < 0) {
      if (this.rest.length > 64 * 1024 * 1024)
        throw new InvalidFileError('A row of the first sheet is larger than 64 MB; the file cannot be read.');
      return [];
    }
    const done = this.rest.slice(0, end);
    this.rest = this.rest.slice(end);
    return this.rows(done);
  }

  /** The rows left at the end of the sheet. */
  end(): SheetRow[] {
    const out = this.rows(this.rest);
    this.rest = '';
    return out;
  }

  private rows(xml: string): SheetRow[] {
    const out: SheetRow[] = [];
    ROW.lastIndex = 0;
    for (let m = ROW.exec(xml); m; m = ROW.exec(xml)) {
      const r = ROW_NUMBER.exec(m[1] ?? '');
      const number = r ? Number(r[1]) : this.lastRow + 1;
      this.lastRow = number;
      out.push({ number, cells: m[2] ? this.cells(m[2], number) : [] });
    }
    return out;
  }

  private cells(xml: string, rowNumber: number): unknown[] {
    const cells: unknown[] = [];
    let next = 0;
    const re = CELL;
    re.lastIndex = 0;
    for (let m = re.exec(xml); m; m = re.exec(xml)) {
      const attrs = cellAttributes(m[1] ?? '');
      const ref = attrs.r;
      const col = ref ? columnIndex(ref) : next;
      if (col < 0 || col > 16_383) {
        throw new InvalidFileError(`Row ${rowNumber} of the first sheet has a cell at "${ref ?? ''}", which is not a cell reference.`);
      }
      next = col + 1;
      cells[col] = m[2] === undefined ? null : this.value(attrs, m[2], rowNumber, ref ?? '');
    }
    return cells;
  }

  private value(attrs: CellAttributes, inner: string, rowNumber: number, ref: string): unknown {
    const t = attrs.t ?? 'n';
    if (t === 'inlineStr') {
      const is = INLINE.exec(inner);
      return is ? stringItemText(is[1] ?? '') : null;
    }
    const v = VALUE.exec(inner)?.[1];
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
        if (Number.isNaN(n))
          throw new InvalidFileError(`Cell ${ref} (row ${rowNumber}) should hold a number but holds "${v.slice(0, 40)}".`);
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
