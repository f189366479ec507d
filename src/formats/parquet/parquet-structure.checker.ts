/**
 * A Parquet file's structure, checked before its pages are decoded. The format carries no checksum
 * that readers must check, so a damaged file is found by what must agree: the footer with itself
 * and the file (`checkFooter`); each column chunk's page headers with its byte range and its count
 * of values (`checkPages`, which reads headers only); and each page's run-length encoded streams
 * with the values its header announces (`PageRuns`), because hyparquet writes every value a run
 * announces, even past the end of its output: a run of 2^31 in a 1 KB page would fill the heap.
 */
import type { FileHandle } from 'node:fs/promises';
import { parquetSchema } from 'hyparquet';
import type { AsyncBuffer, ColumnChunk, CompressionCodec, FileMetaData, PageHeader, ParquetType, RowGroup, SchemaTree } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { InvalidFileError } from '../../errors.js';
import { damaged, PARQUET_MAX_PAGE_BYTES, pageTooLarge } from './parquet-codecs.js';

/**
 * One page may hold at most this many values: the decoder allocates an array of every value a page
 * header announces. Writers cap pages at 20,000 rows (parquet-mr, Arrow) or a row group (DuckDB:
 * 122,880); 1 MB of bit-packed booleans, the densest legacy page, holds 8 Mi.
 */
export const PARQUET_MAX_PAGE_VALUES = 8 * 1024 * 1024;
/** A page header may be at most this large (it carries the page's statistics, which writers truncate). */
const MAX_PAGE_HEADER_BYTES = 16 * 1024 * 1024;
const CODECS = new Set<CompressionCodec>(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW']);

/** A leaf column of the schema: its path as column chunks name it, its levels and its physical type. */
export interface Leaf {
  path: string;
  maxDefinition: number;
  maxRepetition: number;
  boolean: boolean;
  type: ParquetType | undefined;
}

/**
 * The encodings of values hyparquet decodes, and the physical types each may be used for; any other
 * is refused naming the column rather than decoded wrong (RLE of anything but booleans would be
 * read as dictionary indices).
 */
const VALUE_ENCODINGS: Record<string, readonly ParquetType[] | 'any'> = {
  PLAIN: 'any',
  PLAIN_DICTIONARY: 'any',
  RLE_DICTIONARY: 'any',
  RLE: ['BOOLEAN'],
  DELTA_BINARY_PACKED: ['INT32', 'INT64'],
  DELTA_LENGTH_BYTE_ARRAY: ['BYTE_ARRAY'],
  DELTA_BYTE_ARRAY: ['BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'],
  BYTE_STREAM_SPLIT: ['FLOAT', 'DOUBLE', 'INT32', 'INT64', 'FIXED_LEN_BYTE_ARRAY'],
};

function unsupported(path: string, what: string, of = ''): InvalidFileError {
  return new InvalidFileError(
    `Column "${path}" of the Parquet file ${what}, which is not supported${of}; write the file with another encoding.`,
  );
}

/** A data page's encodings against what hyparquet decodes for its column. */
function checkEncodings(h: PageHeader, column: Leaf): void {
  const v1 = h.data_page_header;
  const encoding = v1?.encoding ?? h.data_page_header_v2?.encoding;
  const types = encoding === undefined ? undefined : VALUE_ENCODINGS[encoding];
  if (!types)
    throw unsupported(column.path, `is written in ${encoding ? `the ${encoding} encoding` : 'an encoding this reader does not know'}`);
  if (types !== 'any' && !(column.type && types.includes(column.type)))
    throw unsupported(column.path, `is written in the ${encoding} encoding`, ` for ${column.type ?? 'its'} values`);
  // Version 1 pages name their levels' encoding; hyparquet reads them all as RLE.
  if (v1 && column.maxDefinition && v1.definition_level_encoding !== 'RLE')
    throw unsupported(column.path, `stores its definition levels in the ${v1.definition_level_encoding} encoding`);
  if (v1 && column.maxRepetition && v1.repetition_level_encoding !== 'RLE')
    throw unsupported(column.path, `stores its repetition levels in the ${v1.repetition_level_encoding} encoding`);
}

function leaves(node: SchemaTree, definition = 0, repetition = 0, out: Leaf[] = []): Leaf[] {
  for (const child of node.children) {
    const e = child.element;
    const d = definition + (e.repetition_type === 'REQUIRED' ? 0 : 1);
    const r = repetition + (e.repetition_type === 'REPEATED' ? 1 : 0);
    if (child.children.length) leaves(child, d, r, out);
    else out.push({ path: child.path.join('.'), maxDefinition: d, maxRepetition: r, boolean: e.type === 'BOOLEAN', type: e.type });
  }
  return out;
}

/** Where a column chunk's pages are, as hyparquet reads it (a 0 dictionary offset means none). */
function chunkRange(c: ColumnChunk): { start: number; end: number } {
  const m = c.meta_data;
  if (!m) return { start: -1, end: -1 };
  const start = Number(m.dictionary_page_offset || m.data_page_offset);
  return { start, end: start + Number(m.total_compressed_size) };
}

/**
 * The footer against itself and the file: each row group has a chunk for every leaf column of the
 * schema, in order, with as many values as it has rows (at least as many when the column repeats),
 * in a byte range among the pages (before `pagesEnd`).
 */
export function checkFooter(metadata: FileMetaData, pagesEnd: number): Leaf[] {
  const columns = leaves(parquetSchema(metadata));
  // The footer's own row count is not checked: some writers leave it 0, and the rows are read by group.
  metadata.row_groups.forEach((group, g) => {
    const rows = group.num_rows;
    if (rows < 0n) throw damaged(`row group ${g + 1} has ${rows} rows`);
    if (group.columns.length !== columns.length) {
      throw damaged(`row group ${g + 1} has ${group.columns.length} columns where the schema has ${columns.length}`);
    }
    group.columns.forEach((chunk, i) => {
      const m = chunk.meta_data;
      const leaf = columns[i] as Leaf;
      // Parquet modular encryption with a plaintext footer: the schema is readable, the column is not.
      if (chunk.crypto_metadata || chunk.encrypted_column_metadata) {
        throw new InvalidFileError(
          `Column "${leaf.path}" of the Parquet file is encrypted (Parquet modular encryption), which is not supported; import a copy written without encryption.`,
        );
      }
      if (!m) throw damaged(`column ${i + 1} of row group ${g + 1} has no metadata`);
      const path = m.path_in_schema.join('.');
      if (path !== leaf.path) throw damaged(`row group ${g + 1} names a column "${path}" where the schema has "${leaf.path}"`);
      if (chunk.file_path) throw new InvalidFileError(`The Parquet file keeps column "${path}" in another file (${chunk.file_path}).`);
      if (!CODECS.has(m.codec))
        throw new InvalidFileError(`Column "${path}" of the Parquet file is compressed with ${m.codec}, which is not supported.`);
      const { start, end } = chunkRange(chunk);
      const data = Number(m.data_page_offset);
      // A chunk of no values may have no data page (Arrow writes its offset as 0 then).
      const dataInside = m.num_values === 0n || (data >= start && data < end);
      if (!(start >= 4 && end > start && end <= pagesEnd && dataInside)) {
        throw damaged(`the pages of column "${path}" in row group ${g + 1} lie outside the file (bytes ${start} to ${end})`);
      }
      if (leaf.maxRepetition ? m.num_values < rows : m.num_values !== rows) {
        throw damaged(`column "${path}" in row group ${g + 1} has ${m.num_values} values for ${rows} rows`);
      }
    });
  });
  return columns;
}

/** Reads page headers through a window of the file, so pages of a few bytes cost no read each. */
export class PageHeaderReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(private readonly fh: FileHandle) {}

  /** The header of the page at `at`, which must end before `end`, and its length in bytes. */
  async read(at: number, end: number): Promise<{ header: PageHeader; length: number }> {
    // A header is a few hundred bytes (more with statistics): a small window first, larger if cut off.
    for (let size = 8 * 1024; ; size *= 16) {
      const wanted = Math.min(size, end - at, MAX_PAGE_HEADER_BYTES);
      if (at < this.windowStart || at + wanted > this.windowStart + this.window.length) {
        // The window also holds the next headers when pages are small.
        const buf = Buffer.alloc(wanted);
        const { bytesRead } = await this.fh.read(buf, 0, wanted, at);
        this.window = buf.subarray(0, bytesRead);
        this.windowStart = at;
      }
      const offset = at - this.windowStart;
      const view = new DataView(this.window.buffer, this.window.byteOffset + offset, Math.min(wanted, this.window.length - offset));
      try {
        const reader = { view, offset: 0 };
        return { header: parquetHeader(reader), length: reader.offset };
      } catch {
        // Cut off by the window, or damaged: once more with a larger window, up to the cap.
        if (wanted >= end - at || size >= MAX_PAGE_HEADER_BYTES) throw damaged(`a page header at byte ${at} cannot be read`);
      }
    }
  }
}

/** A page of the row group being read: what its header says, and where its bytes are in the file. */
export interface PageInfo {
  column: Leaf;
  /** "column "x" in row group 2", for messages. */
  where: string;
  codec: CompressionCodec;
  header: PageHeader;
  /** File offset of the page's bytes (after its header). */
  dataStart: number;
}

function isCount(n: unknown, max = Number.MAX_SAFE_INTEGER): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= max;
}

function tooManyValues(where: string): InvalidFileError {
  return new InvalidFileError(
    `A page of ${where} of the Parquet file declares more than ${PARQUET_MAX_PAGE_VALUES} values (or an impossible count); the file is refused.`,
  );
}

/** The pages of a row group, and the byte length of each column chunk where it is not the one its metadata says. */
export interface GroupPages {
  pages: PageInfo[];
  /** Column index → the chunk's true length (PARQUET-816, below). */
  lengths: Map<number, number>;
}

/**
 * The page headers of each column chunk of a group, read before any page is decoded: they must fill
 * the chunk's byte range exactly and add up to its values, and no page may declare more than
 * {@link PARQUET_MAX_PAGE_BYTES} bytes or {@link PARQUET_MAX_PAGE_VALUES} values, nor an encoding
 * hyparquet does not decode. One known writer bug is read as its readers read it: parquet-cpp
 * before 1.2.0 left the dictionary page's header out of a chunk's length (PARQUET-816), so a chunk
 * that begins with a dictionary page may be longer than its metadata says by exactly that header.
 */
export async function checkPages(headers: PageHeaderReader, group: RowGroup, g: number, columns: Leaf[]): Promise<GroupPages> {
  const pages: PageInfo[] = [];
  const lengths = new Map<number, number>();
  for (const [i, chunk] of group.columns.entries()) {
    const m = chunk.meta_data;
    const column = columns[i];
    if (!m || !column) continue;
    const where = `column "${column.path}" in row group ${g + 1}`;
    const { start, end: declared } = chunkRange(chunk);
    let end = declared;
    let values = 0;
    for (let at = start; at < end; ) {
      const { header: h, length } = await headers.read(at, end);
      if (!h.type) throw damaged(`a page of ${where} has an unknown type`);
      if (!isCount(h.compressed_page_size) || !isCount(h.uncompressed_page_size))
        throw damaged(`a page of ${where} has an impossible size`);
      if (at === start && h.type === 'DICTIONARY_PAGE') end = declared + length;
      if (at + length + h.compressed_page_size > end) throw damaged(`a page of ${where} runs past the end of its column`);
      if (h.uncompressed_page_size > PARQUET_MAX_PAGE_BYTES) throw pageTooLarge(m.codec, h.uncompressed_page_size, where);
      if (h.type === 'DICTIONARY_PAGE') {
        if (at !== start) throw damaged(`${where} has a dictionary page after its first page`);
        if (!isCount(h.dictionary_page_header?.num_values, PARQUET_MAX_PAGE_VALUES)) throw tooManyValues(where);
      } else if (h.type === 'DATA_PAGE') {
        const n = h.data_page_header?.num_values;
        if (!isCount(n, PARQUET_MAX_PAGE_VALUES)) throw tooManyValues(where);
        checkEncodings(h, column);
        values += n;
      } else if (h.type === 'DATA_PAGE_V2') {
        const v2 = h.data_page_header_v2;
        if (!v2 || !isCount(v2.num_values, PARQUET_MAX_PAGE_VALUES)) throw tooManyValues(where);
        const levels = v2.definition_levels_byte_length + v2.repetition_levels_byte_length;
        const consistent =
          isCount(v2.num_nulls, v2.num_values) &&
          isCount(v2.num_rows, v2.num_values) &&
          isCount(v2.definition_levels_byte_length) &&
          isCount(v2.repetition_levels_byte_length) &&
          levels <= h.compressed_page_size &&
          levels <= h.uncompressed_page_size;
        if (!consistent) throw damaged(`a page of ${where} has a header that contradicts itself`);
        checkEncodings(h, column);
        values += v2.num_values;
      }
      pages.push({ column, where, codec: m.codec, header: h, dataStart: at + length });
      at += length + h.compressed_page_size;
      // The pages end where the metadata says: the dictionary header's slack was not needed.
      if (at === declared) end = declared;
    }
    if (values !== Number(m.num_values))
      throw damaged(`the pages of ${where} hold ${values} values where its metadata says ${m.num_values}`);
    if (end !== declared) lengths.set(i, end - start);
  }
  return { pages, lengths };
}

function bitWidth(max: number): number {
  return 32 - Math.clz32(max);
}

/**
 * Walks a run-length / bit-packed hybrid stream from `from` as hyparquet's decoder would (until
 * `limit` values, whatever the stream's stated length) and refuses a run that announces more
 * values than are left. Returns how many of the `limit` values are below `below`; stops quietly
 * where the bytes end (the decoder fails there).
 */
function checkRuns(bytes: Uint8Array, from: number, width: number, limit: number, where: string, below = 0): number {
  const valueBytes = (width + 7) >> 3;
  const mask = width >= 32 ? 0xffffffff : 2 ** width - 1;
  let at = from;
  let seen = 0;
  let counted = 0;
  while (seen < limit && at < bytes.length) {
    let header = 0;
    for (let shift = 0; at < bytes.length; shift += 7) {
      const b = bytes[at++] as number;
      header |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    if (header & 1) {
      const groups = header >>> 1;
      if (below) {
        for (let i = 0; i < groups * 8 && seen + i < limit; i++) {
          const bit = i * width;
          const byte = at + (bit >> 3);
          const word = (bytes[byte] ?? 0) | ((bytes[byte + 1] ?? 0) << 8) | ((bytes[byte + 2] ?? 0) << 16);
          if (((word >>> (bit & 7)) & mask) < below) counted++;
        }
      }
      seen += groups * 8;
      at += groups * width;
    } else {
      const count = header >>> 1;
      if (count > limit - seen) throw damaged(`a page of ${where} has a run of ${count} values where ${limit - seen} are left`);
      let value = 0;
      for (let i = 0; i < valueBytes; i++) value += (bytes[at + i] ?? 0) * 2 ** (8 * i);
      if (value < below) counted += count;
      seen += count;
      at += valueBytes;
    }
  }
  return counted;
}

function u32(bytes: Uint8Array, at: number): number {
  return at + 4 <= bytes.length
    ? (bytes[at] as number) + (bytes[at + 1] as number) * 2 ** 8 + (bytes[at + 2] as number) * 2 ** 16 + (bytes[at + 3] as number) * 2 ** 24
    : 0;
}

const DICTIONARY_INDICES = new Set(['PLAIN_DICTIONARY', 'RLE_DICTIONARY', 'RLE']);

/** The run-length streams of a data page v1, once inflated: repetition levels, definition levels, dictionary indices. */
function checkPageV1(page: Uint8Array, info: PageInfo): void {
  const h = info.header.data_page_header;
  if (!h) return;
  const { column, where } = info;
  let at = 0;
  for (const max of [column.maxRepetition, column.maxDefinition]) {
    if (!max) continue;
    checkRuns(page, at + 4, bitWidth(max), h.num_values, where);
    at += 4 + u32(page, at);
  }
  checkValues(page, at, h.encoding, h.num_values, info);
}

/** The dictionary indices (or run-length booleans) of a data page from `at`. */
function checkValues(page: Uint8Array, at: number, encoding: string, values: number, info: PageInfo): void {
  if (!DICTIONARY_INDICES.has(encoding) || at >= page.length) return;
  if (info.column.boolean) checkRuns(page, at + 4, 1, values, info.where);
  else checkRuns(page, at + 1, page[at] as number, values, info.where);
}

/**
 * The levels of a data page v2, which no compression (and so no gzip CRC) covers: they must agree
 * with the rows and nulls its header counts (a row starts at repetition level 0, a null is below
 * the column's maximum definition level).
 */
function checkLevelsV2(raw: Uint8Array, info: PageInfo): void {
  const v2 = info.header.data_page_header_v2;
  if (!v2) return;
  const { maxRepetition, maxDefinition } = info.column;
  const rows = maxRepetition ? checkRuns(raw, 0, bitWidth(maxRepetition), v2.num_values, info.where, 1) : v2.num_values;
  const nulls = maxDefinition
    ? checkRuns(raw, v2.repetition_levels_byte_length, bitWidth(maxDefinition), v2.num_values, info.where, maxDefinition)
    : 0;
  if (rows !== v2.num_rows || nulls !== v2.num_nulls) {
    throw damaged(
      `a page of ${info.where} has levels for ${rows} rows and ${nulls} nulls where its header says ${v2.num_rows} and ${v2.num_nulls}`,
    );
  }
}

/**
 * The run-length streams of the pages hyparquet is given, checked before it decodes them. Wraps the
 * file: every byte range hyparquet fetches passes through `slice`, where uncompressed pages are
 * checked and compressed ones noted; `inflated`, called by the decompressors, finds the page by its
 * compressed bytes and checks it once inflated. Nothing is decompressed twice.
 */
export class PageRuns {
  private pages: PageInfo[] = [];
  /** Compressed pages fetched and not yet inflated, by the length of what the decompressor is given. */
  private waiting = new Map<number, Array<{ bytes: Uint8Array; info: PageInfo }>>();

  /** The pages of the row group about to be read, from `checkPages`. */
  begin(pages: PageInfo[]): void {
    this.pages = pages.slice().sort((a, b) => a.dataStart - b.dataStart);
    this.waiting.clear();
  }

  end(): void {
    this.pages = [];
    this.waiting.clear();
  }

  watch(file: AsyncBuffer): AsyncBuffer {
    return {
      byteLength: file.byteLength,
      slice: async (start, end) => {
        const buffer = await file.slice(start, end);
        this.fetched(new Uint8Array(buffer), start);
        return buffer;
      },
    };
  }

  /** Called by each decompressor with its input and output. */
  inflated(input: Uint8Array, page: Uint8Array): void {
    const candidates = this.waiting.get(input.length);
    const i = candidates?.findIndex((c) => Buffer.compare(c.bytes, input) === 0) ?? -1;
    const found = i >= 0 ? candidates?.splice(i, 1)[0] : undefined;
    if (!found) throw damaged('it holds a page its column chunks do not account for');
    const { info } = found;
    if (info.header.type === 'DATA_PAGE') checkPageV1(page, info);
    else if (info.header.type === 'DATA_PAGE_V2' && info.header.data_page_header_v2) {
      const v2 = info.header.data_page_header_v2;
      checkValues(page, 0, v2.encoding, v2.num_values - v2.num_nulls, info);
    }
  }

  private fetched(bytes: Uint8Array, start: number): void {
    const end = start + bytes.length;
    for (const info of this.pages) {
      const h = info.header;
      if (info.dataStart < start || info.dataStart + h.compressed_page_size > end) continue;
      const raw = bytes.subarray(info.dataStart - start, info.dataStart - start + h.compressed_page_size);
      let compressed = raw;
      if (h.type === 'DATA_PAGE_V2' && h.data_page_header_v2) {
        const v2 = h.data_page_header_v2;
        checkLevelsV2(raw, info);
        compressed = raw.subarray(v2.repetition_levels_byte_length + v2.definition_levels_byte_length);
        if (info.codec === 'UNCOMPRESSED' || v2.is_compressed === false) {
          checkValues(compressed, 0, v2.encoding, v2.num_values - v2.num_nulls, info);
          continue;
        }
      } else if (info.codec === 'UNCOMPRESSED') {
        if (h.type === 'DATA_PAGE') checkPageV1(raw, info);
        continue;
      }
      const list = this.waiting.get(compressed.length) ?? [];
      list.push({ bytes: compressed, info });
      this.waiting.set(compressed.length, list);
    }
  }
}
