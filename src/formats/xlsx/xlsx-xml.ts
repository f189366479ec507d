/**
 * The fixed parts of the one-sheet workbook tableport writes, and the text escapes of SpreadsheetML
 * (XML entities plus OOXML's `_xHHHH_` for characters XML cannot carry, such as CR and controls).
 */

export const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>`;

export const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>`;

export const APP_PROPS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>tableport</Application></Properties>`;

export const WORKBOOK_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`;

/** Style 0 is the default, style 1 a date to the millisecond, style 2 the bold header. */
export const DATE_STYLE = 1;
export const HEADER_STYLE = 2;

export function stylesXml(dateFormat: string): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="${escapeXml(dateFormat)}"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`;
}

export function workbookXml(sheetName: string): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView/></bookViews><sheets><sheet name="${escapeXml(sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`;
}

/** The sheet's opening: a frozen header row and column widths (dates need room, or Excel shows ####). */
export function sheetStart(widths: number[]): string {
  const cols = widths.map((w, i) => `<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`).join('');
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>' +
    (cols ? `<cols>${cols}</cols>` : '') +
    '<sheetData>'
  );
}

export const SHEET_END = '</sheetData></worksheet>';

/** "A", "B", … "Z", "AA", …: the column letters of a 0-based column index. */
export function columnLetters(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

/** The 0-based column index of a cell reference such as "AB12". */
export function columnIndex(ref: string): number {
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    n = n * 26 + (c - 64);
  }
  return n - 1;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 cannot carry these control characters; OOXML escapes them as _xHHHH_.
const NEEDS_ESCAPE = /[&<>"\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the same characters, to escape them.
const ESCAPES = /[&<>"\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)/g;

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}

/** Text for an XML element or attribute, with OOXML escapes for what XML 1.0 cannot hold. */
export function escapeXml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(ESCAPES, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case '_':
        // a literal "_xHHHH_" must not be read back as an escape
        return '_x005F_';
      default:
        return `_x${hex4(c.charCodeAt(0))}_`;
    }
  });
}

const ENTITY = /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const OOXML_ESCAPE = /_x([0-9A-Fa-f]{4})_/g;

/** A character reference as text; one past U+10FFFF (which String.fromCodePoint throws on) stays as written. */
function codePoint(ref: string, n: number): string {
  return n <= 0x10ffff ? String.fromCodePoint(n) : ref;
}

/** XML text back to a string: entities, then OOXML `_xHHHH_` escapes. */
export function unescapeXml(text: string): string {
  let s = text;
  if (s.includes('&')) {
    s = s.replace(ENTITY, (m, hex: string | undefined, dec: string | undefined, name: string | undefined) =>
      hex !== undefined
        ? codePoint(m, Number.parseInt(hex, 16))
        : dec !== undefined
          ? codePoint(m, Number.parseInt(dec, 10))
          : (NAMED[name ?? ''] ?? ''),
    );
  }
  if (s.includes('_x')) s = s.replace(OOXML_ESCAPE, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  // XML turns CR LF into LF; a CR that mattered was written as _x000D_ above.
  return s;
}

/** Where `findElement` found an element in the text: indexes, so nothing is copied to find it. */
export interface ElementSpan {
  /** The `<` of its start tag. */
  start: number;
  /** Its attributes: the text after the name, up to `>` or `/>`. */
  attrStart: number;
  attrEnd: number;
  /** An empty element, `<name/>`: it has no content. */
  empty: boolean;
  /** Its content (found by `findElement` only). */
  innerStart: number;
  innerEnd: number;
  /** Just past the element's last `>`. */
  end: number;
}

export function elementSpan(): ElementSpan {
  return { start: 0, attrStart: 0, attrEnd: 0, empty: false, innerStart: 0, innerEnd: 0, end: 0 };
}

function isNameChar(c: number): boolean {
  // [A-Za-z0-9_.:-], the characters of the tag names SpreadsheetML uses (with a namespace prefix)
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 58) || c === 95 || c === 46 || c === 45;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * The next start (or empty) tag whose local name is `name` (any namespace prefix: `x:row` is a
 * `row`) at or after `from`; fills `span` up to `end`, the index past its `>`. False when there is
 * none, or when its `>` is not in the text yet.
 */
export function findStartTag(xml: string, name: string, from: number, span: ElementSpan): boolean {
  const n = xml.length;
  for (let at = from; ; ) {
    const lt = xml.indexOf('<', at);
    if (lt < 0) return false;
    let j = lt + 1;
    let local = j;
    for (; j < n; j++) {
      const c = xml.charCodeAt(j);
      if (!isNameChar(c)) break;
      if (c === 58 /* : */) local = j + 1;
    }
    // An end tag, a comment or another element: go on after its name.
    if (j - local !== name.length || !xml.startsWith(name, local) || j === n) {
      at = j > lt + 1 ? j : lt + 1;
      continue;
    }
    const c = xml.charCodeAt(j);
    if (c !== 62 /* > */ && c !== 47 /* / */ && !isSpace(c)) {
      at = j;
      continue;
    }
    const gt = xml.indexOf('>', j);
    if (gt < 0) return false;
    const empty = xml.charCodeAt(gt - 1) === 47;
    span.start = lt;
    span.attrStart = j;
    span.attrEnd = empty ? gt - 1 : gt;
    span.empty = empty;
    span.innerStart = gt + 1;
    span.innerEnd = gt + 1;
    span.end = gt + 1;
    return true;
  }
}

/** Whether the tag opening at `lt` (its `<`) has the local name `name`. */
export function tagNameIs(xml: string, lt: number, name: string): boolean {
  let j = lt + 1;
  let local = j;
  for (; j < xml.length; j++) {
    const c = xml.charCodeAt(j);
    if (!isNameChar(c)) break;
    if (c === 58 /* : */) local = j + 1;
  }
  return j - local === name.length && xml.startsWith(name, local);
}

/** `name>` by name: made once, not per element (a string per cell of a million rows). */
const END_NEEDLES = new Map<string, string>();

/** The index of the `<` of the first end tag `</name>` or `</prefix:name>` at or after `from`, or -1. */
export function findEndTag(xml: string, name: string, from: number): number {
  let needle = END_NEEDLES.get(name);
  if (needle === undefined) {
    needle = `${name}>`;
    END_NEEDLES.set(name, needle);
  }
  for (let at = xml.indexOf(needle, from); at !== -1; at = xml.indexOf(needle, at + 1)) {
    let j = at - 1;
    if (xml.charCodeAt(j) === 58 /* : */) {
      j--;
      while (j > 0 && isNameChar(xml.charCodeAt(j)) && xml.charCodeAt(j) !== 58) j--;
    }
    if (xml.charCodeAt(j) === 47 /* / */ && xml.charCodeAt(j - 1) === 60 /* < */) return j - 1;
  }
  return -1;
}

/**
 * The next whole element whose local name is `name` at or after `from`: its start tag, content and
 * end tag (SpreadsheetML's rows, cells and strings never nest in themselves). False when there is
 * none or it is not complete. Linear in the text it passes over: a start tag without an end tag
 * ends the search, where a backtracking regular expression would try again from every later start
 * tag (`<c><c><c>…` took quadratic time).
 */
export function findElement(xml: string, name: string, from: number, span: ElementSpan): boolean {
  if (!findStartTag(xml, name, from, span)) return false;
  if (span.empty) return true;
  const close = findEndTag(xml, name, span.end);
  if (close < 0) return false;
  span.innerEnd = close;
  span.end = xml.indexOf('>', close) + 1;
  return true;
}
