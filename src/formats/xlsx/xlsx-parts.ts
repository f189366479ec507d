/**
 * The small parts of an xlsx package a reader needs before the sheet: where the workbook, its first
 * sheet, styles and shared strings are, which cell styles are dates, and the shared-string table.
 * Scanned with indexOf rather than a general XML parser, because these parts have a fixed, shallow
 * shape (ECMA-376) and a general XML parser (saxes) read only ~40,000 rows/s here. Every scan moves
 * forward only, so a hostile part costs time linear in its size (see `findElement`).
 */
import { InvalidFileError } from '../../errors.js';
import { elementSpan, findElement, findEndTag, findStartTag, tagNameIs, unescapeXml } from './xlsx-xml.js';

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Attributes of one start tag (the text after its name), by local name: a namespace prefix is
 * dropped, `r:id` is `id`. A forward scan: an unclosed quote ends it.
 */
export function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  const n = tag.length;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(tag.charCodeAt(i))) i++;
    const nameStart = i;
    while (i < n && tag.charCodeAt(i) !== 61 /* = */ && !isSpace(tag.charCodeAt(i))) i++;
    const name = tag.slice(nameStart, i);
    while (i < n && isSpace(tag.charCodeAt(i))) i++;
    if (i >= n || tag.charCodeAt(i) !== 61 || name === '') return out;
    i++;
    while (i < n && isSpace(tag.charCodeAt(i))) i++;
    const quote = tag[i];
    if (quote !== '"' && quote !== "'") return out;
    const close = tag.indexOf(quote, i + 1);
    if (close < 0) return out;
    const local = name.slice(name.indexOf(':') + 1);
    if (!out.has(local)) out.set(local, unescapeXml(tag.slice(i + 1, close)));
    i = close + 1;
  }
}

/** Every start (or empty) tag with this local name, as its attributes. */
export function tags(xml: string, name: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  const span = elementSpan();
  for (let at = 0; findStartTag(xml, name, at, span); at = span.end) out.push(attributes(xml.slice(span.attrStart, span.attrEnd)));
  return out;
}

export interface Relationship {
  id: string;
  type: string;
  target: string;
}

export function relationships(xml: string): Relationship[] {
  return tags(xml, 'Relationship').map((a) => ({ id: a.get('Id') ?? '', type: a.get('Type') ?? '', target: a.get('Target') ?? '' }));
}

/** A relationship target as a zip entry name, relative to the part that names it. */
export function resolveTarget(fromPart: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  const parts = fromPart.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.join('/');
}

/** The rels part of a part: `xl/workbook.xml` → `xl/_rels/workbook.xml.rels`. */
export function relsPath(part: string): string {
  const i = part.lastIndexOf('/');
  return `${part.slice(0, i + 1)}_rels/${part.slice(i + 1)}.rels`;
}

export interface WorkbookInfo {
  /** The first sheet's relationship id and name. */
  firstSheet?: { rid: string; name: string };
  /** Every sheet, in the workbook's order (the tabs' order). */
  sheets: Array<{ rid: string; name: string }>;
  date1904: boolean;
}

export function workbookInfo(xml: string): WorkbookInfo {
  const sheets = tags(xml, 'sheet');
  const pr = tags(xml, 'workbookPr')[0];
  const d = pr?.get('date1904');
  const info: WorkbookInfo = {
    date1904: d === '1' || d === 'true',
    sheets: sheets.map((s) => ({ rid: s.get('id') ?? '', name: s.get('name') ?? '' })),
  };
  const first = sheets[0];
  if (first) info.firstSheet = { rid: first.get('id') ?? '', name: first.get('name') ?? '' };
  return info;
}

/** Built-in number formats that are dates or times (ECMA-376 §18.8.30, and the East Asian ones). */
const BUILTIN_DATES = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58,
]);

/** Whether a custom number format shows a date or time: y, m, d, h or s outside quotes and brackets. */
export function isDateFormat(code: string): boolean {
  const bare = code
    .replace(/"[^"]*"/g, '')
    .replace(/\\./g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/_./g, '');
  return /[ymdhs]/i.test(bare) && !/^general$/i.test(bare.trim());
}

/** For each cell style index (`s`), whether cells of that style hold dates. */
export function dateStyles(xml: string): boolean[] {
  const custom = new Map<number, string>();
  for (const a of tags(xml, 'numFmt')) custom.set(Number(a.get('numFmtId')), a.get('formatCode') ?? '');
  const span = elementSpan();
  const section = findElement(xml, 'cellXfs', 0, span) ? xml.slice(span.innerStart, span.innerEnd) : '';
  return tags(section, 'xf').map((a) => {
    const id = Number(a.get('numFmtId') ?? 0);
    const code = custom.get(id);
    return code !== undefined ? isDateFormat(code) : BUILTIN_DATES.has(id);
  });
}

/** The plain text of a string item (`<si>` or `<is>`): its runs' `<t>`s joined, phonetic hints (`<rPh>`) left out. */
export function stringItemText(inner: string): string {
  const t = elementSpan();
  const ph = elementSpan();
  let phonetic = inner.includes('rPh') && findElement(inner, 'rPh', 0, ph) ? ph.start : -1;
  let text = '';
  for (let at = 0; findElement(inner, 't', at, t); ) {
    if (phonetic >= 0 && t.start > phonetic) {
      at = ph.end;
      phonetic = findElement(inner, 'rPh', at, ph) ? ph.start : -1;
      continue;
    }
    if (!t.empty) text += inner.slice(t.innerStart, t.innerEnd);
    at = t.end;
  }
  return unescapeXml(text);
}

/** A size for a message: "64 MB", or bytes below one. */
export function megabytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MB` : `${bytes} bytes`;
}

/** Characters of the text already searched that are searched again with the next chunk: an end tag cut in two. */
const OVERLAP = 256;
/** A start tag of a row or string item is short; one longer than this is not looked back for. */
const MAX_TAG = 4096;

/**
 * Gathers XML text that arrives in chunks and hands it out cut after the last end tag `</name>` (or
 * `</prefix:name>`) so far, so that only whole elements are parsed. Each chunk is searched once (with
 * a short overlap for an end tag cut between chunks) and the text waiting for its end tag is joined
 * only when the tag comes: linear in the text, where searching the whole waiting text again on every
 * chunk was quadratic. More than `maxWaiting` characters waiting is `tooLarge()`.
 */
export class ElementChunker {
  private waiting: string[] = [];
  private waitingLength = 0;
  /** The end of the text already searched, searched again with the next chunk. */
  private tail = '';
  /** How far into the overlap an end tag's `name>` may start and still be new. */
  private readonly overlapFrom: number;

  constructor(
    private readonly name: string,
    private readonly maxWaiting: number,
    private readonly tooLarge: () => Error,
  ) {
    this.overlapFrom = name.length + 1;
  }

  /** Adds text; returns the text up to the last end tag now complete, or '' when there is none yet. */
  push(text: string): string {
    const region = this.tail + text;
    const end = this.lastEnd(region, Math.max(0, this.tail.length - this.overlapFrom + 1));
    if (end < 0) {
      this.waiting.push(text);
      this.waitingLength += text.length;
      if (this.waitingLength > this.maxWaiting) throw this.tooLarge();
      this.tail = region.length > OVERLAP ? region.slice(-OVERLAP) : region;
      return '';
    }
    this.waiting.push(text);
    const all = this.waiting.join('');
    const cut = all.length - (region.length - end);
    const rest = all.slice(cut);
    this.waiting = rest === '' ? [] : [rest];
    this.waitingLength = rest.length;
    this.tail = rest.length > OVERLAP ? rest.slice(-OVERLAP) : rest;
    return all.slice(0, cut);
  }

  /** The text left at the end of the input. */
  end(): string {
    const all = this.waiting.join('');
    this.waiting = [];
    this.waitingLength = 0;
    this.tail = '';
    return all;
  }

  /** Just past the last end tag (or empty element, `<name/>`) in `xml` that ends after `from`, or -1. */
  private lastEnd(xml: string, from: number): number {
    let found = -1;
    for (let at = findEndTag(xml, this.name, from); at !== -1; at = findEndTag(xml, this.name, found)) {
      found = xml.indexOf('>', at) + 1;
    }
    // Empty elements too (a sheet of empty rows), or they would wait for the next end tag, or the cap.
    // The '<' of each '/>' is looked for back to the previous '/>' at most (and a tag's length), so
    // no character is looked at twice.
    let previous = Math.max(0, from - MAX_TAG);
    for (let at = xml.indexOf('/>', from); at !== -1; at = xml.indexOf('/>', at + 2)) {
      let lt = at - 1;
      const stop = Math.max(previous, at - MAX_TAG);
      while (lt >= stop && xml.charCodeAt(lt) !== 60 /* < */) lt--;
      if (lt >= stop && at + 2 > found && tagNameIs(xml, lt, this.name)) found = at + 2;
      previous = at + 2;
    }
    return found;
  }
}

/** The shared-string table is held whole (cells refer to it by index): its XML may be at most this large. */
export const XLSX_MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024;

/**
 * Collects a shared-string table from its XML in chunks, so a large table never sits in memory
 * twice (once as XML, once as strings). The XML is counted as it comes: past `maxChars` characters
 * (each at least one byte) the workbook is refused, before the table could exhaust memory.
 */
export class SharedStringsCollector {
  readonly strings: string[] = [];
  private readonly chunker: ElementChunker;
  private readonly item = elementSpan();
  private read = 0;

  constructor(
    private readonly part = 'xl/sharedStrings.xml',
    private readonly maxChars = XLSX_MAX_SHARED_STRINGS_BYTES,
  ) {
    this.chunker = new ElementChunker('si', maxChars, () => this.tooLarge());
  }

  push(text: string): void {
    this.read += text.length;
    if (this.read > this.maxChars) throw this.tooLarge();
    const done = this.chunker.push(text);
    if (done) this.collect(done);
  }

  end(): string[] {
    this.collect(this.chunker.end());
    return this.strings;
  }

  tooLarge(): InvalidFileError {
    return new InvalidFileError(
      `The shared strings of the xlsx file (${this.part}) are larger than the limit of ${megabytes(this.maxChars)}; ` +
        'tableport holds them in memory and cannot read this workbook. Save the sheet as CSV and import that instead.',
    );
  }

  private collect(xml: string): void {
    const si = this.item;
    for (let at = 0; findElement(xml, 'si', at, si); at = si.end) {
      this.strings.push(si.empty ? '' : stringItemText(xml.slice(si.innerStart, si.innerEnd)));
    }
  }
}
