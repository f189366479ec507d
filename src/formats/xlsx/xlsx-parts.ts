/**
 * The small parts of an xlsx package a reader needs before the sheet: where the workbook, its first
 * sheet, styles and shared strings are, which cell styles are dates, and the shared-string table.
 * Regular expressions over the XML, because these parts have a fixed, shallow shape (ECMA-376) and
 * a general XML parser (saxes) read only ~40,000 rows/s here.
 */
import { unescapeXml } from './xlsx-xml.js';

/** Attributes of one start tag, by local name (a namespace prefix is dropped: `r:id` is `id`). */
export function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  for (let m = re.exec(tag); m; m = re.exec(tag)) {
    const name = (m[1] as string).replace(/^[\w.-]*:/, '');
    if (!out.has(name)) out.set(name, unescapeXml(m[2] ?? m[3] ?? ''));
  }
  return out;
}

/** Every start (or empty) tag with this local name, as its attributes. */
export function tags(xml: string, name: string): Map<string, string>[] {
  const re = new RegExp(`<(?:[\\w.-]+:)?${name}(\\s[^>]*)?\\/?>`, 'g');
  const out: Map<string, string>[] = [];
  for (let m = re.exec(xml); m; m = re.exec(xml)) out.push(attributes(m[1] ?? ''));
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
  date1904: boolean;
}

export function workbookInfo(xml: string): WorkbookInfo {
  const sheets = tags(xml, 'sheet');
  const pr = tags(xml, 'workbookPr')[0];
  const d = pr?.get('date1904');
  const info: WorkbookInfo = { date1904: d === '1' || d === 'true' };
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
  const section = /<(?:[\w.-]+:)?cellXfs\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?cellXfs>/.exec(xml)?.[1] ?? '';
  return tags(section, 'xf').map((a) => {
    const id = Number(a.get('numFmtId') ?? 0);
    const code = custom.get(id);
    return code !== undefined ? isDateFormat(code) : BUILTIN_DATES.has(id);
  });
}

const PHONETIC = /<(?:[\w.-]+:)?rPh\b[\s\S]*?<\/(?:[\w.-]+:)?rPh>/g;
const TEXT = /<(?:[\w.-]+:)?t(?:\s[^>]*)?(?:\/>|>([^<]*)<\/(?:[\w.-]+:)?t>)/g;

/** The plain text of a string item (`<si>` or `<is>`): its runs' `<t>`s joined, phonetic hints left out. */
export function stringItemText(inner: string): string {
  const xml = inner.includes('rPh') ? inner.replace(PHONETIC, '') : inner;
  let text = '';
  TEXT.lastIndex = 0;
  for (let m = TEXT.exec(xml); m; m = TEXT.exec(xml)) text += m[1] ?? '';
  return unescapeXml(text);
}

/** The index just after the last end tag `</name>` (or `</prefix:name>`) in `xml`, or -1. */
export function afterLastClose(xml: string, name: string): number {
  const needle = `${name}>`;
  for (let at = xml.lastIndexOf(needle); at > 0; at = xml.lastIndexOf(needle, at - 1)) {
    let j = at - 1;
    if (xml.charCodeAt(j) === 58 /* : */) {
      j--;
      while (j > 0 && /[\w.-]/.test(xml[j] as string)) j--;
    }
    if (xml.charCodeAt(j) === 47 /* / */ && xml.charCodeAt(j - 1) === 60 /* < */) return at + needle.length;
  }
  return -1;
}

/**
 * Collects a shared-string table from its XML in chunks, so a large table never sits in memory
 * twice (once as XML, once as strings).
 */
export class SharedStringsCollector {
  readonly strings: string[] = [];
  private rest = '';
  private static readonly ITEM = /<(?:[\w.-]+:)?si\b[^>]*?(?:\/>|>([\s\S]*?)<\/(?:[\w.-]+:)?si>)/g;

  push(text: string): void {
    this.rest += text;
    const end = afterLastClose(this.rest, 'si');
    if (end < 0) return;
    this.collect(this.rest.slice(0, end));
    this.rest = this.rest.slice(end);
  }

  end(): string[] {
    this.collect(this.rest);
    this.rest = '';
    return this.strings;
  }

  private collect(xml: string): void {
    const re = SharedStringsCollector.ITEM;
    re.lastIndex = 0;
    for (let m = re.exec(xml); m; m = re.exec(xml)) this.strings.push(m[1] === undefined ? '' : stringItemText(m[1]));
  }
}
