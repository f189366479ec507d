/**
 * The types the Parquet and xlsx modules share with the format layer. `ExportColumn` is the same
 * shape as the format layer's own (`src/formats/format.ts`); when both exist, this file re-exports it.
 */
import type { FieldSchema, FieldType } from '../types/api.js';

/** One column of an export file, in file order: a built-in or a schema field, with its type. */
export interface ExportColumn {
  name: string;
  type: FieldType;
}

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
