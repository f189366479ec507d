/**
 * Export rows as Parquet: row objects in (the JSON export's shape), file bytes out. Rows are gathered
 * into one column array per field until a row group is full, then that group is encoded, compressed
 * and pushed, so memory holds one row group, not the table.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { InvalidFileError } from '../../errors.js';
import type { ColumnarExportOptions, ExportColumn } from '../columnar-types.js';

/**
 * Rows per row group: big enough for readers to skip and decode in bulk, small enough for a flat
 * heap. A group's values are held, then copied and encoded column by column by hyparquet-writer
 * (a Uint8Array per string), so the transient heap grows with the group. Measured at 300,000 rows
 * (docs/benchmarks.md): 8,192 rows peaked ~33 MB lower than 32,768 on both row shapes, at the same
 * CPU time and a 3 % larger file; that is what keeps a 1M-row Parquet export to S3 under 200 MB.
 */
export const PARQUET_ROW_GROUP_ROWS = 8_192;
/** A row group is also closed when its values take about this much memory (very wide rows, long texts). */
export const PARQUET_ROW_GROUP_BYTES = 16 * 1024 * 1024;

type Cell = bigint | number | boolean | string | null;
type Converter = (value: unknown, column: string) => Cell;

/** The Parquet schema element of each tableport type; every column is OPTIONAL (a cell can be null). */
export function parquetSchemaElement(column: ExportColumn): SchemaElement {
  const base = { name: column.name, repetition_type: 'OPTIONAL' as const };
  switch (column.type) {
    case 'integer':
      return { ...base, type: 'INT64' };
    case 'number':
      return { ...base, type: 'DOUBLE' };
    case 'boolean':
      return { ...base, type: 'BOOLEAN' };
    case 'date':
      return {
        ...base,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      };
    default:
      // strings, and arrays and objects as their JSON text
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
  }
}

function bad(column: string, what: string, value: unknown): never {
  const shown = JSON.stringify(value) ?? String(value);
  throw new InvalidFileError(
    `Column "${column}" must hold ${what}, but a row holds ${shown.slice(0, 100)}; it cannot be written to Parquet.`,
  );
}

const toInt64: Converter = (v, column) => {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : bad(column, 'an integer', v);
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return bad(column, 'an integer', v);
};
const toDouble: Converter = (v, column) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : bad(column, 'a number', v));
const toBoolean: Converter = (v, column) => (typeof v === 'boolean' ? v : bad(column, 'a boolean', v));
const toMillis: Converter = (v, column) => {
  const ms = typeof v === 'string' ? Date.parse(v) : v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Number.NaN;
  return Number.isFinite(ms) ? BigInt(ms) : bad(column, 'a date', v);
};
const toText: Converter = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

function converter(type: ExportColumn['type']): Converter {
  switch (type) {
    case 'integer':
      return toInt64;
    case 'number':
      return toDouble;
    case 'boolean':
      return toBoolean;
    case 'date':
      return toMillis;
    default:
      return toText;
  }
}

export type ParquetCodec = 'SNAPPY' | 'GZIP' | 'UNCOMPRESSED';

export interface ParquetExportWriterOptions extends ColumnarExportOptions {
  /** Rows per row group (default {@link PARQUET_ROW_GROUP_ROWS}). */
  rowGroupRows?: number;
  /** Closes a row group early when its values take about this many bytes (default {@link PARQUET_ROW_GROUP_BYTES}). */
  rowGroupBytes?: number;
  /** Page compression (default GZIP at level 1: native zlib, smaller files and less CPU here than JS snappy). */
  codec?: ParquetCodec;
  /** Min/max/null-count statistics per column chunk, which let readers skip row groups (default true). */
  statistics?: boolean;
}

/** zlib is native: gzip at level 1 cost ~8 % less CPU than hyparquet-writer's JavaScript snappy, for 40 % smaller files. */
const gzip = (input: Uint8Array): Uint8Array => gzipSync(input, { level: 1 });

/** A ByteWriter whose bytes are handed out and forgotten after each row group. */
class DrainingWriter extends ByteWriter {
  constructor() {
    super(1 << 20);
  }
  /** The bytes written since the last call, copied out; the internal buffer is reused. */
  take(): Buffer {
    const out = Buffer.from(this.buffer.slice(0, this.index));
    this.index = 0;
    return out;
  }
}

export class ParquetExportWriter extends Transform {
  private readonly columns: ExportColumn[];
  private readonly convert: Converter[];
  private readonly groupRows: number;
  private readonly groupBytes: number;
  private readonly bytes = new DrainingWriter();
  private readonly parquet: ParquetWriter;
  private data: Cell[][];
  private count = 0;
  /** A rough size of the values held for the current row group. */
  private held = 0;

  constructor(opts: ParquetExportWriterOptions) {
    super({ writableObjectMode: true, readableObjectMode: false });
    this.columns = opts.columns;
    this.convert = opts.columns.map((c) => converter(c.type));
    this.groupRows = opts.rowGroupRows ?? PARQUET_ROW_GROUP_ROWS;
    this.groupBytes = opts.rowGroupBytes ?? PARQUET_ROW_GROUP_BYTES;
    this.data = this.emptyColumns();
    const schema: SchemaElement[] = [{ name: 'schema', num_children: this.columns.length }, ...this.columns.map(parquetSchemaElement)];
    this.parquet = new ParquetWriter({
      writer: this.bytes,
      schema,
      codec: opts.codec ?? 'GZIP',
      compressors: { GZIP: gzip },
      statistics: opts.statistics ?? true,
      createdBy: 'tableport',
      // Lets a later import know which text columns held JSON arrays and objects.
      kvMetadata: [
        { key: 'tableport.columns', value: JSON.stringify(this.columns) },
        { key: 'tableport.table', value: opts.tableName },
      ],
    });
  }

  private emptyColumns(): Cell[][] {
    return this.columns.map(() => []);
  }

  override _transform(row: Record<string, unknown>, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      for (let i = 0; i < this.columns.length; i++) {
        const column = this.columns[i] as ExportColumn;
        const v = row[column.name];
        const cell = v === null || v === undefined ? null : (this.convert[i] as Converter)(v, column.name);
        this.held += typeof cell === 'string' ? 24 + 2 * cell.length : 16;
        (this.data[i] as Cell[]).push(cell);
      }
      if (++this.count === this.groupRows || this.held >= this.groupBytes) this.writeGroup();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.count > 0) this.writeGroup();
      this.parquet.finish();
      this.push(this.bytes.take());
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private writeGroup(): void {
    const columnData = this.columns.map((c, i) => ({ name: c.name, data: this.data[i] as Cell[] }));
    this.parquet.write({ columnData, rowGroupSize: this.count });
    this.data = this.emptyColumns();
    this.count = 0;
    this.held = 0;
    this.push(this.bytes.take());
  }
}

/** A Transform: row objects in, the Parquet file's bytes out. Types come from `columns`, known up front. */
export function createParquetExportWriter(opts: ParquetExportWriterOptions): Transform {
  return new ParquetExportWriter(opts);
}
