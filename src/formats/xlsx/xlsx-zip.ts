/**
 * The zip records of the workbook the xlsx writer streams (APPNOTE.TXT 6.3): small parts stored as
 * they are, then the sheet deflated as it is written, its CRC-32 and sizes in a data descriptor
 * after it, ZIP64 where a size or offset passes 4 GiB (a sheet of long rows can), and the central
 * directory. The same choices as yazl (which the writer used before): its CRC-32 in JavaScript and
 * four stream stages per chunk cost more than the sheet's deflate itself.
 */
import * as zlib from 'node:zlib';

/** One entry as the central directory lists it. */
export interface ZipEntry {
  name: Buffer;
  /** 0 stored, 8 deflated. */
  method: number;
  crc: number;
  compressed: number;
  uncompressed: number;
  /** Where its local header starts. */
  offset: number;
  /** Its sizes came after its data (a data descriptor), general purpose bit 3. */
  streamed: boolean;
}

const MAX32 = 0xffffffff;
/** 1980-01-01 00:00 in MS-DOS form (time 0): the same bytes whenever the file is written. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DESCRIPTOR_FLAG = 1 << 3;
/** Made by MS-DOS (no Unix modes to restore), version 4.5 (ZIP64). */
const MADE_BY = 45;

let table: Int32Array | undefined;

/** CRC-32 of `data` continuing from `crc`: zlib's (Node ≥ 20.15, 22.2), else {@link crc32InJavaScript}. */
export function crc32(data: Uint8Array, crc = 0): number {
  // A named import of crc32 would fail to load on the Node 20 releases without it.
  if (typeof zlib.crc32 === 'function') return zlib.crc32(data, crc);
  return crc32InJavaScript(data, crc);
}

/** CRC-32 (ISO-HDLC, as zip and zlib compute it) with a table, for the Node 20 releases before 20.15. */
export function crc32InJavaScript(data: Uint8Array, crc = 0): number {
  if (!table) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = (table[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

function u64(b: Buffer, n: number, at: number): void {
  b.writeUInt32LE(n % 2 ** 32, at);
  b.writeUInt32LE(Math.floor(n / 2 ** 32), at + 4);
}

/** A local file header; a streamed entry's CRC and sizes are zero here and follow its data. */
export function localHeader(e: ZipEntry): Buffer {
  const b = Buffer.alloc(30 + e.name.length);
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(20, 4);
  b.writeUInt16LE(e.streamed ? DESCRIPTOR_FLAG : 0, 6);
  b.writeUInt16LE(e.method, 8);
  b.writeUInt16LE(0, 10);
  b.writeUInt16LE(DOS_DATE, 12);
  b.writeUInt32LE(e.streamed ? 0 : e.crc, 14);
  b.writeUInt32LE(e.streamed ? 0 : e.compressed, 18);
  b.writeUInt32LE(e.streamed ? 0 : e.uncompressed, 22);
  b.writeUInt16LE(e.name.length, 26);
  b.writeUInt16LE(0, 28);
  e.name.copy(b, 30);
  return b;
}

function zip64(e: ZipEntry): boolean {
  return e.compressed >= MAX32 || e.uncompressed >= MAX32 || e.offset >= MAX32;
}

/** The data descriptor after a streamed entry's data: 8-byte sizes when they need them. */
export function dataDescriptor(e: ZipEntry): Buffer {
  const wide = zip64(e);
  const b = Buffer.alloc(wide ? 24 : 16);
  b.writeUInt32LE(0x08074b50, 0);
  b.writeUInt32LE(e.crc, 4);
  if (wide) {
    u64(b, e.compressed, 8);
    u64(b, e.uncompressed, 16);
  } else {
    b.writeUInt32LE(e.compressed, 8);
    b.writeUInt32LE(e.uncompressed, 12);
  }
  return b;
}

function centralRecord(e: ZipEntry): Buffer {
  const wide = zip64(e);
  const extra = wide ? 28 : 0;
  const b = Buffer.alloc(46 + e.name.length + extra);
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(MADE_BY, 4);
  b.writeUInt16LE(wide ? 45 : 20, 6);
  b.writeUInt16LE(e.streamed ? DESCRIPTOR_FLAG : 0, 8);
  b.writeUInt16LE(e.method, 10);
  b.writeUInt16LE(0, 12);
  b.writeUInt16LE(DOS_DATE, 14);
  b.writeUInt32LE(e.crc, 16);
  b.writeUInt32LE(wide ? MAX32 : e.compressed, 20);
  b.writeUInt32LE(wide ? MAX32 : e.uncompressed, 24);
  b.writeUInt16LE(e.name.length, 28);
  b.writeUInt16LE(extra, 30);
  // comment length, disk number, internal and external attributes: 0
  b.writeUInt32LE(wide ? MAX32 : e.offset, 42);
  e.name.copy(b, 46);
  if (wide) {
    const at = 46 + e.name.length;
    b.writeUInt16LE(0x0001, at);
    b.writeUInt16LE(24, at + 2);
    u64(b, e.uncompressed, at + 4);
    u64(b, e.compressed, at + 12);
    u64(b, e.offset, at + 20);
  }
  return b;
}

/** The central directory, starting at byte `at` of the file, and its end records. */
export function centralDirectory(entries: readonly ZipEntry[], at: number): Buffer {
  const records = Buffer.concat(entries.map(centralRecord));
  const wide = at >= MAX32 || records.length >= MAX32 || entries.some(zip64);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(Math.min(records.length, MAX32), 12);
  end.writeUInt32LE(wide ? MAX32 : at, 16);
  if (!wide) return Buffer.concat([records, end]);
  const end64 = Buffer.alloc(56);
  end64.writeUInt32LE(0x06064b50, 0);
  u64(end64, 44, 4);
  end64.writeUInt16LE(MADE_BY, 12);
  end64.writeUInt16LE(45, 14);
  u64(end64, entries.length, 24);
  u64(end64, entries.length, 32);
  u64(end64, records.length, 40);
  u64(end64, at, 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  u64(locator, at + records.length, 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([records, end64, locator, end]);
}

/** A small part stored as it is: its local header and bytes, and its entry for the directory. */
export function storedPart(name: string, data: Buffer, offset: number): { bytes: Buffer; entry: ZipEntry } {
  const entry: ZipEntry = {
    name: Buffer.from(name),
    method: 0,
    crc: crc32(data),
    compressed: data.length,
    uncompressed: data.length,
    offset,
    streamed: false,
  };
  return { bytes: Buffer.concat([localHeader(entry), data]), entry };
}
