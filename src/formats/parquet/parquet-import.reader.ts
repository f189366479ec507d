/**
 * Read a local Parquet file as row objects, one row group (or a slice of a large one) at a time, so
 * memory follows the row group, not the file. Values come out as native JS types: numbers (bigint
 * for INT64 outside the safe range), booleans, Dates for timestamps, strings, null; nested values
 * (lists, structs, maps, JSON) as their JSON text, the way tableport writes array and object cells.
 */
import { open, stat } from 'node:fs/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import type { FileMetaData, RowGroup } from 'hyparquet';
import { compressors as jsCompressors } from 'hyparquet-compressors';
import { InvalidFileError } from '../../errors.js';
import type { ColumnarReadOptions, ColumnarRow } from '../columnar-types.js';
import { PARQUET_MAGIC } from './parquet-detect.js';

/** A row group bigger than this is read in slices of this size. */
export const PARQUET_READ_SLICE_ROWS = 131_072;

/** Pure-JS codecs (snappy in WASM, zstd, lz4), with gzip and brotli from node's native zlib, which is faster. */
const compressors = {
  ...jsCompressors,
  GZIP: (input: Uint8Array): Uint8Array => gunzipSync(input),
  BROTLI: (input: Uint8Array): Uint8Array => brotliDecompressSync(input),
};

function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

function jsonText(value: unknown): string {
  return JSON.stringify(value, jsonValue);
}

/** One cell as tableport's importer wants it. */
export function parquetCell(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return v;
    case 'bigint': {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : v;
    }
    default:
      if (v instanceof Date) return v;
      if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
      return jsonText(v);
  }
}

function unreadable(err: unknown): InvalidFileError {
  if (err instanceof InvalidFileError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new InvalidFileError(`The Parquet file could not be read; it may be damaged or truncated (${why}).`);
}

/** Head and tail checks before the footer is parsed, so the common mistakes get a plain sentence. */
async function checkEnds(path: string): Promise<number> {
  const { size } = await stat(path);
  if (size === 0) throw new InvalidFileError('The file is empty.');
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    if (!head.equals(PARQUET_MAGIC)) throw new InvalidFileError('The file is not a Parquet file: it does not start with "PAR1".');
    if (size < 12) throw new InvalidFileError('The Parquet file is truncated: it is too short to hold a footer.');
    await fh.read(tail, 0, 4, size - 4);
    if (!tail.equals(PARQUET_MAGIC)) throw new InvalidFileError('The Parquet file is truncated or damaged: it does not end with "PAR1".');
  } finally {
    await fh.close();
  }
  return size;
}

function abortIfAsked(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('The read was aborted.');
}

/** Whether every column chunk says (in its encoding stats) that its data pages hold fewer rows than `rows`. */
function pagesSmallerThan(group: RowGroup, rows: number): boolean {
  const groupRows = Number(group.num_rows);
  return group.columns.every((c) => {
    const stats = c.meta_data?.encoding_stats;
    if (!stats) return false;
    const pages = stats
      .filter((e) => e.page_type === 'DATA_PAGE' || e.page_type === 'DATA_PAGE_V2')
      .reduce((n, e) => n + Number(e.count), 0);
    return pages > 0 && groupRows / pages <= rows;
  });
}

interface ColumnChunkData {
  rowStart: number;
  data: ArrayLike<unknown>;
}

/** A column's decoded pieces, read forward by absolute row number. */
class ColumnCursor {
  private i = 0;
  constructor(private readonly pieces: ColumnChunkData[]) {
    pieces.sort((a, b) => a.rowStart - b.rowStart);
  }
  at(row: number): unknown {
    let p = this.pieces[this.i];
    while (p && row >= p.rowStart + p.data.length) p = this.pieces[++this.i];
    return p && row >= p.rowStart ? p.data[row - p.rowStart] : undefined;
  }
}

/** The top-level column names, refusing what cannot become a row (duplicates). */
function topColumns(metadata: FileMetaData): string[] {
  const names = parquetSchema(metadata).children.map((c) => c.element.name);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new InvalidFileError(`The Parquet file has two columns named "${n}".`);
    seen.add(n);
  }
  return names;
}

export interface ParquetReadOptions extends ColumnarReadOptions {
  /** Row groups larger than this are read in slices of it (default {@link PARQUET_READ_SLICE_ROWS}). */
  sliceRows?: number;
}

export async function* readParquetRows(path: string, opts: ParquetReadOptions = {}): AsyncIterable<ColumnarRow> {
  const { signal } = opts;
  const sliceRows = opts.sliceRows ?? PARQUET_READ_SLICE_ROWS;
  await checkEnds(path);
  const file = await asyncBufferFromFile(path);
  let metadata: FileMetaData;
  let names: string[];
  try {
    metadata = await parquetMetadataAsync(file);
    names = topColumns(metadata);
  } catch (err) {
    throw unreadable(err);
  }
  let line = 0;
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    // A big group (pyarrow writes up to 1Mi rows in one) is read in slices so that only one slice of
    // rows is decoded at a time: hyparquet skips the pages before a slice and stops after it; offset
    // indexes also spare reading the other pages' bytes. That pays only when pages are smaller than
    // a slice: with one page per column (DuckDB writes no page statistics to tell), every slice would
    // decode the whole page again, so such a group is read whole.
    const indexed = group.columns.every((c) => c.offset_index_offset !== undefined);
    const step = groupRows > sliceRows && (indexed || pagesSmallerThan(group, sliceRows)) ? sliceRows : groupRows;
    for (let start = groupStart; start < groupStart + groupRows; start += step) {
      abortIfAsked(signal);
      const end = Math.min(start + step, groupStart + groupRows);
      // Column by column (onChunk), not as hyparquet's row arrays: a row object is built only as it
      // is yielded, so a slice costs its decoded columns and not a second copy of them as rows.
      const chunks = new Map<string, ColumnChunkData[]>(names.map((n) => [n, []]));
      try {
        await parquetRead({
          file,
          metadata,
          columns: names,
          rowStart: start,
          rowEnd: end,
          compressors,
          useOffsetIndex: indexed && step < groupRows,
          onChunk: (c) => chunks.get(c.columnName)?.push({ rowStart: c.rowStart, data: c.columnData }),
        });
      } catch (err) {
        throw unreadable(err);
      }
      const cursors = names.map((n) => new ColumnCursor(chunks.get(n) ?? []));
      chunks.clear();
      for (let r = start; r < end; r++) {
        const row: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) row[names[i] as string] = parquetCell((cursors[i] as ColumnCursor).at(r));
        yield { line: ++line, row };
      }
    }
    groupStart += groupRows;
  }
}
