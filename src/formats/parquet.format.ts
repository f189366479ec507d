/** Parquet: typed columns written in row groups, read back a row group at a time (`src/formats/parquet/`). */
import type { FileFormat } from './format.js';
import { checkParquetFile, createParquetExportWriter, isParquet, readParquetRows } from './parquet/index.js';

export const parquetFormat: FileFormat = {
  fileType: 'parquet',
  extension: '.parquet',
  contentType: 'application/vnd.apache.parquet',
  title: 'Parquet',
  export: { kind: 'rows', createWriter: createParquetExportWriter },
  import: { kind: 'rows', read: readParquetRows, check: checkParquetFile },
  detect: (head) => isParquet(head),
};
