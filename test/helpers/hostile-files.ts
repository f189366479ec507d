/**
 * Hostile files built by the tests themselves: an xlsx whose shared strings never end, Parquet
 * files whose pages inflate far past what they declare (written by hand, thrift and all), and
 * gzip streams of many megabytes of one byte. Big contents are streamed, never held whole.
 */
import { createWriteStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import yazl from 'yazl';
import { CONTENT_TYPES, ROOT_RELS, workbookXml } from '../../src/formats/xlsx/xlsx-xml.js';

const MB = 1024 * 1024;

/** `bytes` of `byte`, in chunks of 1 MB. */
export function repeated(bytes: number, byte = 0x61, head = '', tail = ''): Readable {
  return Readable.from(
    (function* () {
      if (head) yield Buffer.from(head);
      const chunk = Buffer.alloc(MB, byte);
      for (let left = bytes; left > 0; left -= MB) yield left >= MB ? chunk : chunk.subarray(0, left);
      if (tail) yield Buffer.from(tail);
    })(),
  );
}

/** A readable's bytes gzipped (level 9: about 1,000 to 1 for one repeated byte), collected. */
export async function gzipOf(source: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _enc, cb) {
      parts.push(c);
      cb();
    },
  });
  await pipeline(source, createGzip({ level: 9 }), sink);
  return Buffer.concat(parts);
}

const WORKBOOK_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`;

const SHEET = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>`;

/**
 * An xlsx workbook whose shared-string part is `sharedStrings` (streamed into the zip, deflated at
 * level 9) and whose sheet is `sheet` (by default a header "title" from shared string 0 and one row).
 */
export async function xlsxWith(path: string, sharedStrings: Readable | string, sheet: string = SHEET): Promise<void> {
  const zip = new yazl.ZipFile();
  const opts = { compress: true, mtime: new Date(0) } as const;
  zip.addBuffer(Buffer.from(CONTENT_TYPES), '[Content_Types].xml', opts);
  zip.addBuffer(Buffer.from(ROOT_RELS), '_rels/.rels', opts);
  zip.addBuffer(Buffer.from(workbookXml('Sheet1')), 'xl/workbook.xml', opts);
  zip.addBuffer(Buffer.from(WORKBOOK_RELS), 'xl/_rels/workbook.xml.rels', opts);
  zip.addBuffer(Buffer.from(sheet), 'xl/worksheets/sheet1.xml', opts);
  if (typeof sharedStrings === 'string') zip.addBuffer(Buffer.from(sharedStrings), 'xl/sharedStrings.xml', opts);
  else zip.addReadStream(sharedStrings, 'xl/sharedStrings.xml', { ...opts, compressionLevel: 9 });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

/** The shared-strings bomb of issue 19: a `<t>` opened, then `bytes` of one character, never closed. */
export function endlessSharedString(bytes: number): Readable {
  return repeated(
    bytes,
    0x61,
    '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>',
  );
}

/* ---- Parquet, written by hand: the Thrift compact protocol, as much of it as a footer needs ---- */

type Thrift =
  | { t: 'i32'; v: number }
  | { t: 'i64'; v: number }
  | { t: 'bin'; v: string }
  | { t: 'list'; of: 'i32' | 'bin' | 'struct'; v: Thrift[] }
  | { t: 'struct'; v: Record<number, Thrift> };

const i32 = (v: number): Thrift => ({ t: 'i32', v });
const i64 = (v: number): Thrift => ({ t: 'i64', v });
const bin = (v: string): Thrift => ({ t: 'bin', v });
const struct = (v: Record<number, Thrift>): Thrift => ({ t: 'struct', v });
const list = (of: 'i32' | 'bin' | 'struct', v: Thrift[]): Thrift => ({ t: 'list', of, v });
const TYPE = { i32: 5, i64: 6, bin: 8, list: 9, struct: 12 } as const;

function varint(out: number[], n: bigint): void {
  let v = n;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function zigzag(n: number): bigint {
  const b = BigInt(n);
  return b >= 0n ? b << 1n : (-b << 1n) - 1n;
}

function writeValue(out: number[], x: Thrift): void {
  switch (x.t) {
    case 'i32':
    case 'i64':
      varint(out, zigzag(x.v));
      return;
    case 'bin': {
      const bytes = Buffer.from(x.v);
      varint(out, BigInt(bytes.length));
      out.push(...bytes);
      return;
    }
    case 'list':
      if (x.v.length < 15) out.push((x.v.length << 4) | TYPE[x.of]);
      else {
        out.push(0xf0 | TYPE[x.of]);
        varint(out, BigInt(x.v.length));
      }
      for (const e of x.v) writeValue(out, e);
      return;
    case 'struct': {
      let last = 0;
      for (const [key, value] of Object.entries(x.v).sort((a, b) => Number(a[0]) - Number(b[0]))) {
        const id = Number(key);
        out.push(((id - last) << 4) | TYPE[value.t]);
        last = id;
        writeValue(out, value);
      }
      out.push(0);
      return;
    }
  }
}

function thrift(x: Thrift): Buffer {
  const out: number[] = [];
  writeValue(out, x);
  return Buffer.from(out);
}

export type ParquetCodecName = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'LZO' | 'BROTLI' | 'ZSTD' | 'LZ4_RAW';
const CODEC: Record<ParquetCodecName, number> = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, LZO: 3, BROTLI: 4, ZSTD: 6, LZ4_RAW: 7 };
/** Parquet's Encoding enum, for the pages `handParquet` writes. */
export const PARQUET_ENCODING = { PLAIN: 0, RLE: 3, BIT_PACKED: 4, DELTA_BINARY_PACKED: 5 } as const;

export interface HandPage {
  /** The page's bytes as stored (compressed with `codec`). */
  data: Buffer;
  /** What the page header says it inflates to. */
  declared: number;
  /** What the page header says it holds. */
  values: number;
}

/**
 * A Parquet file of one DOUBLE column "x" (REQUIRED, or OPTIONAL: then each page starts with its
 * definition levels), one row group of `rows`, and `pages` (data pages v1, PLAIN unless `encoding`
 * says otherwise, levels RLE unless `levels` does) as given: nothing checks that a page holds what
 * its header says. The file is otherwise valid: DuckDB and hyparquet read its footer.
 */
export function handParquet(
  codec: ParquetCodecName,
  pages: HandPage[],
  rows = pages.reduce((n, p) => n + p.values, 0),
  opts: { optional?: boolean; encoding?: number; levels?: number } = {},
): Buffer {
  const parts: Buffer[] = [Buffer.from('PAR1')];
  const encoding = opts.encoding ?? PARQUET_ENCODING.PLAIN;
  const levels = opts.levels ?? PARQUET_ENCODING.RLE;
  let at = 4;
  for (const p of pages) {
    const header = thrift(
      struct({
        1: i32(0),
        2: i32(p.declared),
        3: i32(p.data.length),
        5: struct({ 1: i32(p.values), 2: i32(encoding), 3: i32(levels), 4: i32(levels) }),
      }),
    );
    parts.push(header, p.data);
    at += header.length + p.data.length;
  }
  const size = at - 4;
  const footer = thrift(
    struct({
      1: i32(1),
      2: list('struct', [struct({ 4: bin('schema'), 5: i32(1) }), struct({ 1: i32(5), 3: i32(opts.optional ? 1 : 0), 4: bin('x') })]),
      3: i64(rows),
      4: list('struct', [
        struct({
          1: list('struct', [
            struct({
              2: i64(4),
              3: struct({
                1: i32(5),
                2: list('i32', [i32(0)]),
                3: list('bin', [bin('x')]),
                4: i32(CODEC[codec]),
                5: i64(rows),
                6: i64(pages.reduce((n, p) => n + p.declared, 0)),
                7: i64(size),
                9: i64(4),
              }),
            }),
          ]),
          2: i64(size),
          3: i64(rows),
        }),
      ]),
      6: bin('tableport hostile test'),
    }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(footer.length);
  parts.push(footer, length, Buffer.from('PAR1'));
  return Buffer.concat(parts);
}

/** A page of doubles 0 .. n-1, PLAIN, uncompressed: what a small honest page holds. */
export function doublesPage(n: number): Buffer {
  const b = Buffer.alloc(n * 8);
  for (let i = 0; i < n; i++) b.writeDoubleLE(i, i * 8);
  return b;
}

const zeros = new Map<number, Promise<Buffer>>();

/** `bytes` zeros gzipped, made once per size: a few seconds for hundreds of MB. */
export function gzipZeros(bytes: number): Promise<Buffer> {
  let made = zeros.get(bytes);
  if (!made) {
    made = gzipOf(repeated(bytes, 0));
    zeros.set(bytes, made);
  }
  return made;
}

/**
 * The page bomb of issue 19: a GZIP page that inflates to `inflated` bytes of zeros (doubles 0.0),
 * from about a thousandth of that. Its header says what it inflates to (and one double per 8 bytes)
 * unless `declared` says less.
 */
export async function parquetGzipBomb(inflated: number, declared = inflated): Promise<Buffer> {
  const data = await gzipZeros(inflated);
  const values = Math.floor(declared / 8);
  return handParquet('GZIP', [{ data, declared, values }], values);
}

/** A small honest GZIP file, to show the hand-written footer reads. */
export function parquetSmall(values: number): Buffer {
  const page = doublesPage(values);
  return handParquet('GZIP', [{ data: gzipSync(page), declared: page.length, values }]);
}

/** An LZ4 block (raw): one zero, then copies of it, `bytes` in all, from about 4 bytes per KB. */
export function lz4Zeros(bytes: number): Buffer {
  const out: number[] = [];
  let left = bytes;
  let literals = 1;
  // Each sequence: token, its literals, offset 1, then a match of at least 19 (15 + extra bytes);
  // the block ends with 5 literals or more, as LZ4 requires.
  while (left - literals - 5 >= 19) {
    const match = Math.min(left - literals - 5, 1024 * 1024);
    out.push((literals << 4) | 15, ...new Array<number>(literals).fill(0), 1, 0);
    let extra = match - 4 - 15;
    for (; extra >= 255; extra -= 255) out.push(255);
    out.push(extra);
    left -= literals + match;
    literals = 0;
  }
  out.push(...(left >= 15 ? [0xf0, left - 15] : [left << 4]), ...new Array<number>(left).fill(0));
  return Buffer.from(out);
}

/** A zstd frame of RLE blocks: `bytes` of zeros in 4 bytes per 128 KiB, with no content size in its header. */
export function zstdZeros(bytes: number): Buffer {
  const out: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3];
  for (let left = bytes; left > 0; ) {
    const n = Math.min(left, 128 * 1024);
    left -= n;
    const header = (left === 0 ? 1 : 0) | (1 << 1) | (n << 3);
    out.push(header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, 0);
  }
  return Buffer.from(out);
}
