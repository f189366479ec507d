/**
 * Read a local Parquet file as row objects, one row group (or a slice of a large one) at a time, so
 * memory follows the row group, not the file. Values come out as native JS types: numbers (bigint
 * for INT64 outside the safe range), booleans, Dates for timestamps, strings, null; nested values
 * (lists, structs, maps, JSON) as their JSON text, the way tableport writes array and object cells.
 * BINARY and FIXED_LEN_BYTE_ARRAY without a string annotation are bytes: base64 text, at the top
 * level and nested alike (decoding them as UTF-8 would change bytes that are not text). Where
 * hyparquet's own reading would change a value (DECIMAL, INT96, GEOMETRY, maps, null struct
 * fields), parquet-values.ts reads it raw and makes the file's value; a value no field can store is
 * an `UnstorableValue`, which the import refuses with its row.
 *
 * Hostile and damaged files are refused as `invalid_file` before they cost memory or time: the
 * structure is checked before pages are decoded (parquet-structure.checker.ts), every page is held
 * to a size while it inflates (parquet-codecs.ts), and every column must give a value for every row
 * read. The reader stops between row groups and slices once the signal is aborted.
 */
import { open, stat } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import type { FileMetaData, RowGroup } from 'hyparquet';
import { InvalidFileError } from '../../errors.js';
import type { ColumnarReadOptions, ColumnarRow } from '../columnar-types.js';
import { UnstorableValue } from '../values.js';
import { damaged, pageDecompressors } from './parquet-codecs.js';
import { PARQUET_ENCRYPTED_MAGIC, PARQUET_MAGIC } from './parquet-detect.js';
import { checkFooter, checkPages, type GroupPages, type Leaf, PageHeaderReader, PageRuns } from './parquet-structure.checker.js';
import { type Mend, parquetReadPlan } from './parquet-values.js';

/** A row group bigger than this is read in slices of this size. */
export const PARQUET_READ_SLICE_ROWS = 131_072;
/** The footer (schema, row groups, statistics) may be at most this large. */
const MAX_FOOTER_BYTES = 64 * 1024 * 1024;
/** GeoParquet's WKB columns stay bytes (base64), like the GEOMETRY logical type (see parquet-values.ts). */
const METADATA_OPTIONS = { geoparquet: false };

function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

/**
 * A nested value as its JSON text; or, when it holds NaN or ±Infinity, that number: JSON has no
 * spelling for them (JSON.stringify writes null, which would lose them quietly), and a bare NaN is
 * refused with its row and column like any value a table cannot store. So is a value the reader
 * found no field can store (`UnstorableValue`), nested or not.
 */
function nestedCell(value: unknown): unknown {
  let refused: number | UnstorableValue | undefined;
  const text = JSON.stringify(value, (key, v: unknown) => {
    if ((typeof v === 'number' && !Number.isFinite(v)) || v instanceof UnstorableValue) refused ??= v;
    return jsonValue(key, v);
  });
  return refused ?? text;
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
      if (v instanceof Date || v instanceof UnstorableValue) return v;
      // BINARY without a string annotation is bytes, not text: base64, as inside nested values.
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      return nestedCell(v);
  }
}

/** A failure to read the file in words for the user; the abort of the job passes as it is. */
function unreadable(err: unknown, signal: AbortSignal | undefined): unknown {
  if (err instanceof InvalidFileError || signal?.aborted) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new InvalidFileError(`The Parquet file could not be read; it may be damaged or truncated (${why}).`);
}

/**
 * Head and tail checks before the footer is parsed, so the common mistakes get a plain sentence.
 * Returns where the footer starts: the pages lie before it.
 */
async function checkEnds(path: string): Promise<number> {
  const { size } = await stat(path);
  if (size === 0) throw new InvalidFileError('The file is empty.');
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(8);
    await fh.read(head, 0, 4, 0);
    if (head.equals(PARQUET_ENCRYPTED_MAGIC)) {
      throw new InvalidFileError(
        'The Parquet file is encrypted, footer and columns (Parquet modular encryption), which is not supported; import a copy written without encryption.',
      );
    }
    if (!head.equals(PARQUET_MAGIC)) throw new InvalidFileError('The file is not a Parquet file: it does not start with "PAR1".');
    if (size < 12) throw new InvalidFileError('The Parquet file is truncated: it is too short to hold a footer.');
    await fh.read(tail, 0, 8, size - 8);
    if (!tail.subarray(4).equals(PARQUET_MAGIC))
      throw new InvalidFileError('The Parquet file is truncated or damaged: it does not end with "PAR1".');
    const footer = tail.readUInt32LE(0);
    if (footer > size - 12) throw damaged(`its footer claims ${footer} bytes of a ${size}-byte file`);
    if (footer > MAX_FOOTER_BYTES) {
      throw new InvalidFileError(`The Parquet file's footer is ${footer} bytes, more than the limit of ${MAX_FOOTER_BYTES} (64 MiB).`);
    }
    return size - 8 - footer;
  } finally {
    await fh.close();
  }
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
  /** Whether the pieces give a value for every row from `start` to `end`, and none past `last`. */
  covers(start: number, end: number, last: number): boolean {
    let next = start;
    for (const p of this.pieces) {
      const pieceEnd = p.rowStart + p.data.length;
      if (pieceEnd > last) return false;
      if (pieceEnd <= next) continue;
      if (p.rowStart > next) return false;
      next = pieceEnd;
    }
    return next >= end;
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

/**
 * The structure of a whole file, without decoding a page: its ends, its footer and every page
 * header (what `readParquetRows` checks as it goes). For an upload, before it is queued.
 */
export async function checkParquetFile(path: string): Promise<void> {
  const pagesEnd = await checkEnds(path);
  const fh = await open(path, 'r');
  try {
    let metadata: FileMetaData;
    let leaves: Leaf[];
    try {
      metadata = await parquetMetadataAsync(await asyncBufferFromFile(path), METADATA_OPTIONS);
      topColumns(metadata);
      leaves = checkFooter(metadata, pagesEnd);
      parquetReadPlan(metadata);
    } catch (err) {
      throw unreadable(err, undefined);
    }
    const headers = new PageHeaderReader(fh);
    for (const [g, group] of metadata.row_groups.entries()) {
      try {
        await checkPages(headers, group, g, leaves);
      } catch (err) {
        throw unreadable(err, undefined);
      }
    }
  } finally {
    await fh.close();
  }
}

/** The file's top-level columns, in order, from its footer alone. */
export async function parquetColumns(path: string): Promise<string[]> {
  await checkEnds(path);
  try {
    return topColumns(await parquetMetadataAsync(await asyncBufferFromFile(path), METADATA_OPTIONS));
  } catch (err) {
    throw unreadable(err, undefined);
  }
}

export async function* readParquetRows(path: string, opts: ParquetReadOptions = {}): AsyncIterable<ColumnarRow> {
  const { signal } = opts;
  const sliceRows = opts.sliceRows ?? PARQUET_READ_SLICE_ROWS;
  const pagesEnd = await checkEnds(path);
  const raw = await asyncBufferFromFile(path);
  let metadata: FileMetaData;
  let names: string[];
  let leaves: Leaf[];
  let plan: ReturnType<typeof parquetReadPlan>;
  try {
    metadata = await parquetMetadataAsync(raw, METADATA_OPTIONS);
    names = topColumns(metadata);
    leaves = checkFooter(metadata, pagesEnd);
    plan = parquetReadPlan(metadata);
  } catch (err) {
    throw unreadable(err, signal);
  }
  const mends: Array<Mend | undefined> = plan.mends;
  const runs = new PageRuns();
  const file = runs.watch(raw);
  const compressors = pageDecompressors((input, page) => runs.inflated(input, page));
  const fh = await open(path, 'r');
  try {
    const headers = new PageHeaderReader(fh);
    let line = 0;
    let groupStart = 0;
    for (const [g, group] of metadata.row_groups.entries()) {
      signal?.throwIfAborted();
      const groupRows = Number(group.num_rows);
      const groupEnd = groupStart + groupRows;
      let pages: GroupPages['pages'];
      try {
        const checked = await checkPages(headers, group, g, leaves);
        pages = checked.pages;
        // A chunk longer than its metadata says (PARQUET-816) is read whole.
        for (const [i, length] of checked.lengths) {
          const m = plan.metadata.row_groups[g]?.columns[i]?.meta_data;
          if (m) m.total_compressed_size = BigInt(length);
        }
      } catch (err) {
        throw unreadable(err, signal);
      }
      // A big group (pyarrow writes up to 1Mi rows in one) is read in slices so that only one slice of
      // rows is decoded at a time: hyparquet skips the pages before a slice and stops after it; offset
      // indexes also spare reading the other pages' bytes. That pays only when pages are smaller than
      // a slice: with one page per column (DuckDB writes no page statistics to tell), every slice would
      // decode the whole page again, so such a group is read whole.
      const indexed = group.columns.every((c) => c.offset_index_offset !== undefined);
      const step = groupRows > sliceRows && (indexed || pagesSmallerThan(group, sliceRows)) ? sliceRows : groupRows;
      for (let start = groupStart; start < groupEnd; start += step) {
        signal?.throwIfAborted();
        const end = Math.min(start + step, groupEnd);
        // Column by column (onChunk), not as hyparquet's row arrays: a row object is built only as it
        // is yielded, so a slice costs its decoded columns and not a second copy of them as rows.
        const chunks = new Map<string, ColumnChunkData[]>(names.map((n) => [n, []]));
        runs.begin(pages);
        try {
          await parquetRead({
            file,
            metadata: plan.metadata,
            parsers: plan.parsers,
            columns: names,
            rowStart: start,
            rowEnd: end,
            compressors,
            // Only annotated strings are text; other BINARY stays bytes (base64 in parquetCell).
            utf8: false,
            useOffsetIndex: indexed && step < groupRows,
            onChunk: (c) => chunks.get(c.columnName)?.push({ rowStart: c.rowStart, data: c.columnData }),
          });
        } catch (err) {
          throw unreadable(err, signal);
        } finally {
          runs.end();
        }
        const cursors = names.map((n) => new ColumnCursor(chunks.get(n) ?? []));
        chunks.clear();
        // Pages that hold fewer values than their header said would otherwise read as nulls.
        const short = cursors.findIndex((c) => !c.covers(start, end, groupEnd));
        if (short >= 0) throw damaged(`column "${names[short]}" does not hold a value for every row of row group ${g + 1}`);
        for (let r = start; r < end; r++) {
          const row: Record<string, unknown> = {};
          for (let i = 0; i < names.length; i++) {
            const v = (cursors[i] as ColumnCursor).at(r);
            const mend = mends[i];
            row[names[i] as string] = parquetCell(mend ? mend(v) : v);
          }
          yield { line: ++line, row };
        }
      }
      groupStart = groupEnd;
    }
  } finally {
    await fh.close();
  }
}
