/**
 * File formats (see `registry.ts`): streaming, pure encoders and decoders, used by exports (reshape
 * and count PostgreSQL's output), imports (file bytes → validated COPY text) and the records API.
 */

export { COPY_NULL, escapeCopy } from './copy-text.js';
export { CsvRecordCounter, createCsvRecordCounter, type CsvRecordCounterOptions } from './csv-record-counter.transform.js';
export { CopyProgress, type CopyProgressOptions } from './copy-progress.transform.js';
export { CsvTokenizer } from './csv-tokenizer.js';
export { CsvImportEncoder } from './csv-import.encoder.js';
export { ImportEncoder, DEFAULT_MAX_ERRORS, type ImportEncoderOptions } from './import-encoder.js';
export { JsonArrayTransform, createJsonArrayTransform, type RowCountingOptions } from './json-array.transform.js';
export { JsonArraySplitter, type ElementHandler, type JsonArrayLimits } from './json/json-array-splitter.js';
export { JsonImportEncoder } from './json-import.encoder.js';
export { encodeJsonRow, type JsonRowContext, type JsonRowResult } from './json-row.js';
export { RowPlan, type RowDefaults, type RowProblem } from './row-plan.js';
export { sniffForInference, sniffHead, sniffUpload, SNIFF_BYTES, CSV_DELIMITERS, type SniffOptions, type SniffResult } from './sniff.js';
export { detectFormat, gzipError, isGzip, readHead, type FileHead } from './detect.js';
export type * from './format.js';
export { FORMATS, createImportEncoder, exportFileTypes, exportFormatOf, formatOf, importFileTypes } from './registry.js';
export { LineCounter } from './line-counter.transform.js';
export { JsonLinesToRows } from './json-lines-rows.transform.js';
export { NdjsonImportEncoder } from './ndjson-import.encoder.js';
export { ObjectImportEncoder } from './object-import.encoder.js';
export { exportColumns, exportExtension, planExport, type ExportPlan, type ExportPlanOptions } from './export-plan.js';
export { explainInputError, openImportInput, type ImportInput, type ImportInputOptions } from './import-pipeline.js';
export { createErrorReport, ERROR_REPORT_COLUMN, type ErrorReport } from './error-report.js';
export { inferSchema, inferWholeFile, sampleFile, INFER_SAMPLE_ROWS } from './infer-schema.js';
