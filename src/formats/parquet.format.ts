/**
 * Parquet: typed columns written in row groups, read back a row group at a time (`src/formats/parquet/`).
 * Exports go through DuckDB when its native library loads here (PostgreSQL's CSV → DuckDB →
 * Parquet, parquet-duckdb.writer.ts), else through the JavaScript writer; docs/benchmarks.md has
 * both measured.
 */
import type { ExportShape, FileFormat } from './format.js';
import { checkParquetFile, createParquetExportWriter, isParquet, parquetColumns, readParquetRows } from './parquet/index.js';
import { createDuckdbParquetWriter, duckdbAvailable } from './parquet/parquet-duckdb.writer.js';

const viaJavaScript: ExportShape = { kind: 'rows', createWriter: createParquetExportWriter };
const viaDuckdb: ExportShape = { kind: 'csv-rewrite', createTransform: ({ columns }) => createDuckdbParquetWriter(columns) };

/** Known once the library has been tried (at start); until then, and without it, the JavaScript writer. */
let duckdb = false;
void duckdbAvailable().then((ok) => {
  duckdb = ok;
});

export const parquetFormat: FileFormat = {
  fileType: 'parquet',
  extension: '.parquet',
  contentType: 'application/vnd.apache.parquet',
  title: 'Parquet',
  get export(): ExportShape {
    return duckdb ? viaDuckdb : viaJavaScript;
  },
  import: { kind: 'rows', read: readParquetRows, check: checkParquetFile, columns: parquetColumns },
  detect: (head) => isParquet(head),
};
