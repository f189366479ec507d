/**
 * How an export of a given format is streamed: which COPY PostgreSQL runs (its CSV writer or
 * row_to_json lines), and the stages between it and the stored file (BOM, reshaping, a format's
 * row writer, gzip). The service only pipes `source → ...stages → storage`.
 */
import { type Duplex, Transform, type TransformCallback } from 'node:stream';
import { createGzip } from 'node:zlib';
import { BUILTIN_FIELD_TYPES, BUILTIN_FIELDS, type FieldSchema, type FileType } from '../types/api.js';
import { CopyCsvToJsonLines } from './copy-csv-json.transform.js';
import { CopyProgress } from './copy-progress.transform.js';
import type { CsvExportDialect, ExportColumn } from './format.js';
import { JsonLinesToRows } from './json-lines-rows.transform.js';
import { exportFormatOf } from './registry.js';

export interface ExportPlanOptions {
  fileType: FileType;
  tableName: string;
  fields: FieldSchema[];
  csv: CsvExportDialect;
  gzip: boolean;
  onRows: (rows: number) => void;
  /** The file's columns when the export selects them (`include_keys`, ...); default: every column. */
  columns?: ExportColumn[];
}

export interface ExportPlan {
  /**
   * What PostgreSQL writes: its CSV (with these options; the JSON formats' too) or one row_to_json object per line, in
   * buffers of `chunkBytes` (the COPY stream's default when unset): large where the bytes pass
   * through, small where each buffer becomes row objects at once (a format's row writer).
   */
  source: ({ kind: 'csv'; delimiter: string; header: boolean; escapeFormulas: boolean } | { kind: 'json' }) & { chunkBytes?: number };
  stages: Duplex[];
  /**
   * Rows that have gone through (all of them once the stream has ended), or null when the file's
   * rows are the COPY's own count (CSV passes PostgreSQL's bytes through without parsing them).
   */
  counter: { readonly rows: number } | null;
}

/** The columns of an exported file: the built-ins with their natural types, then the schema's fields. */
export function exportColumns(fields: readonly FieldSchema[]): ExportColumn[] {
  return [
    ...BUILTIN_FIELDS.map((name) => ({ name, type: BUILTIN_FIELD_TYPES[name] })),
    ...fields.map((f) => ({ name: f.name, type: f.type })),
  ];
}

/**
 * COPY buffers for a format's row writer (Parquet's JavaScript writer): every row of a buffer is parsed
 * into an object before the writer takes it, so a 1 MiB buffer (the pass-through default) holds
 * ~4,000 wide rows at once. The 1M-row Parquet export to S3, after one CSV export, peaked at 187 MB
 * with 1 MiB buffers and 182 MB with 64 KiB (docs/benchmarks.md).
 */
export const ROW_WRITER_CHUNK_BYTES = 64 * 1024;

/**
 * COPY buffers for formats that rewrite PostgreSQL's CSV (JSON, NDJSON, SQL, xlsx, Parquet through
 * DuckDB): each becomes an output buffer two to three times its size, so smaller ones than the
 * pass-through default keep fewer of them waiting for the garbage collector.
 */
export const REWRITE_CHUNK_BYTES = 256 * 1024;

export function planExport(opts: ExportPlanOptions): ExportPlan {
  const format = exportFormatOf(opts.fileType);
  const shape = format.export;
  let plan: ExportPlan;
  if (!shape || shape.kind === 'copy-csv') {
    // Progress is estimated from the bytes; the exact count comes from the COPY when it completes.
    const progress = new CopyProgress({ onRows: opts.onRows });
    const stages: Duplex[] = opts.csv.bom ? [prefix(BOM), progress] : [progress];
    plan = {
      source: { kind: 'csv', delimiter: opts.csv.delimiter, header: opts.csv.header, escapeFormulas: opts.csv.escapeFormulas === true },
      stages,
      counter: null,
    };
  } else if (shape.kind === 'json-lines') {
    // PostgreSQL writes CSV (about twice as fast as its row_to_json) and the lines row_to_json
    // would write are made from it here, on the other core (copy-csv-json.transform.ts).
    const counter = shape.createTransform({ onRows: opts.onRows });
    const lines = new CopyCsvToJsonLines({ columns: opts.columns ?? exportColumns(opts.fields) });
    plan = {
      source: { kind: 'csv', delimiter: ',', header: false, escapeFormulas: false, chunkBytes: REWRITE_CHUNK_BYTES },
      stages: [lines, counter],
      counter,
    };
  } else if (shape.kind === 'csv-rewrite') {
    // Progress is estimated from the CSV's bytes, as for CSV; the COPY's count is the exact one.
    const writer = shape.createTransform({ tableName: opts.tableName, columns: opts.columns ?? exportColumns(opts.fields) });
    const progress = new CopyProgress({ onRows: opts.onRows });
    plan = {
      source: { kind: 'csv', delimiter: ',', header: false, escapeFormulas: false, chunkBytes: REWRITE_CHUNK_BYTES },
      stages: [progress, writer],
      counter: null,
    };
  } else {
    const counter = new JsonLinesToRows({ onRows: opts.onRows });
    const writer = shape.createWriter({
      tableName: opts.tableName,
      fields: opts.fields,
      columns: opts.columns ?? exportColumns(opts.fields),
    });
    plan = { source: { kind: 'json', chunkBytes: ROW_WRITER_CHUNK_BYTES }, stages: [counter, writer], counter };
  }
  if (opts.gzip) plan.stages.push(createGzip());
  return plan;
}

/** The file name's extension for a format, with `.gz` when compressed (no dot in front). */
export function exportExtension(fileType: FileType, gzip: boolean): string {
  return exportFormatOf(fileType).extension.slice(1) + (gzip ? '.gz' : '');
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function prefix(bytes: Buffer): Transform {
  let first = true;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      if (first) {
        first = false;
        this.push(bytes);
      }
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (first) this.push(bytes);
      cb();
    },
  });
}
