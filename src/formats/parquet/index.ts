/** Parquet: a streaming export writer, a row-group-at-a-time reader and content detection. */
export {
  createParquetExportWriter,
  ParquetExportWriter,
  PARQUET_ROW_GROUP_ROWS,
  PARQUET_ROW_GROUP_BYTES,
  parquetSchemaElement,
  type ParquetCodec,
  type ParquetExportWriterOptions,
} from './parquet-export.writer.js';
export {
  checkParquetFile,
  parquetColumns,
  readParquetRows,
  parquetCell,
  PARQUET_READ_SLICE_ROWS,
  type ParquetReadOptions,
} from './parquet-import.reader.js';
export { isParquet, PARQUET_MAGIC } from './parquet-detect.js';
export { PARQUET_MAX_PAGE_BYTES } from './parquet-codecs.js';
export { PARQUET_MAX_PAGE_VALUES } from './parquet-structure.checker.js';
