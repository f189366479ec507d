/**
 * Read a local Parquet file as row objects, one row group (or a slice of a large one) at a time, so
 * memory follows the row group, not the file. Values come out as native JS types: numbers (bigint
 * for INT64 outside the safe range), booleans, Dates for timestamps, strings, null; nested values
 * (lists, structs, maps, JSON) as their JSON text, the way tableport writes array and object cells.
 */
import { open, stat } from 'node:fs/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { compressors as jsCompressors } from 'hyparquet-compressors';
import { InvalidFileError } from '../../errors.js';
import type { ColumnarReadOptions, ColumnarRow } from '../columnar-types.js';
import { PARQUET_MAGIC } from './parquet-detect.js';

/** A row group bigger than this is read in slices of this size when the file has page offset indexes. */
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
  /** Row groups larger than this are read in slices of it, where page offset indexes allow (default {@link PARQUET_READ_SLICE_ROWS}). */
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
    const indexed = group.columns.every((c) => c.offset_index_offset !== undefined);
    const step = indexed && groupRows > sliceRows ? sliceRows : groupRows;
    for (let start = groupStart; start < groupStart + groupRows; start += step) {
      abortIfAsked(signal);
      const end = Math.min(start + step, groupStart + groupRows);
      let rows: unknown[][] = [];
      try {
        await parquetRead({
          file,
          metadata,
          columns: names,
          rowStart: start,
          rowEnd: end,
          compressors,
          useOffsetIndex: step < groupRows,
          rowFormat: 'array',
          onComplete: (r: unknown[][]) => {
            rows = r;
          },
        });
      } catch (err) {
        throw unreadable(err);
      }
      for (const cells of rows) {
        const row: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) row[names[i] as string] = parquetCell(cells[i]);
        yield { line: ++line, row };
      }
    }
    groupStart += groupRows;
  }
}
