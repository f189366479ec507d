/**
 * The types the Parquet and xlsx modules share with the format layer. `ExportColumn` is the format
 * layer's own (`src/formats/format.ts`).
 */
import type { FieldSchema } from '../types/api.js';
import type { ExportColumn } from './format.js';

export type { ExportColumn } from './format.js';

/** What a columnar export writer is built from: everything it needs is known before the first row. */
export interface ColumnarExportOptions {
  tableName: string;
  fields: FieldSchema[];
  columns: ExportColumn[];
}

/** One data row read from a file; `line` is the number a person would look for in the file. */
export interface ColumnarRow {
  line: number;
  row: Record<string, unknown>;
}

export interface ColumnarReadOptions {
  signal?: AbortSignal;
}
