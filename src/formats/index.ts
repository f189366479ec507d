/**
 * File formats: streaming, pure encoders and decoders for CSV and JSON, used by exports (reshape
 * and count PostgreSQL's output), imports (file bytes → validated COPY text) and the records API.
 */
import { CsvImportEncoder } from './csv-import.encoder.js';
import type { ImportEncoder, ImportEncoderOptions } from './import-encoder.js';
import { JsonImportEncoder } from './json-import.encoder.js';

export { COPY_NULL, escapeCopy } from './copy-text.js';
export { CsvRecordCounter, createCsvRecordCounter, type CsvRecordCounterOptions } from './csv-record-counter.transform.js';
export { CsvTokenizer } from './csv-tokenizer.js';
export { CsvImportEncoder } from './csv-import.encoder.js';
export { ImportEncoder, DEFAULT_MAX_ERRORS, type ImportEncoderOptions } from './import-encoder.js';
export { JsonArrayTransform, createJsonArrayTransform, type RowCountingOptions } from './json-array.transform.js';
export { JsonArraySplitter } from './json-array-splitter.js';
export { JsonImportEncoder } from './json-import.encoder.js';
export { encodeJsonRow, type JsonRowContext, type JsonRowResult } from './json-row.js';
export { RowPlan, type RowDefaults, type RowProblem } from './row-plan.js';
export { sniffHead, sniffUpload, SNIFF_BYTES, type SniffOptions, type SniffResult } from './sniff.js';

export type ImportFormat = 'csv' | 'json';

/** The import encoder for a file format: file bytes in, PostgreSQL COPY text out. */
export function createImportEncoder(format: ImportFormat, opts: ImportEncoderOptions): ImportEncoder {
  return format === 'csv' ? new CsvImportEncoder(opts) : new JsonImportEncoder(opts);
}
