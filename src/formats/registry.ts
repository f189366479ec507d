/**
 * Every file format tableport speaks, in detection order. Adding a format is one file exporting a
 * `FileFormat` and one line here; nothing else in the service names a format.
 */
import { InvalidParameterError } from '../errors.js';
import type { FileType } from '../types/api.js';
import { csvFormat } from './csv.format.js';
import type { FileFormat, ImportFileOptions } from './format.js';
import type { ImportEncoder, ImportEncoderOptions } from './import-encoder.js';
import { jsonFormat } from './json.format.js';
import { ndjsonFormat } from './ndjson.format.js';
import { parquetFormat } from './parquet.format.js';
import { sqlFormat } from './sql.format.js';
import { xlsxFormat } from './xlsx.format.js';

export const FORMATS: readonly FileFormat[] = [
  // Binary formats first (they look at magic bytes), then text ones; CSV takes any text, so it is last.
  parquetFormat,
  xlsxFormat,
  jsonFormat,
  ndjsonFormat,
  sqlFormat,
  csvFormat,
];

const byType = new Map<string, FileFormat>(FORMATS.map((f) => [f.fileType, f]));

/** The format of a file type, if this server has it. */
export function formatOf(fileType: string): FileFormat | undefined {
  return byType.get(fileType);
}

/** The format an export writes; a type named by the API but not built into this server is refused. */
export function exportFormatOf(fileType: FileType): FileFormat {
  const f = byType.get(fileType);
  if (!f?.export) {
    throw new InvalidParameterError(
      'file_type',
      `file_type "${fileType}" cannot be exported by this server; use one of ${exportFileTypes().join(', ')}.`,
    );
  }
  return f;
}

export function exportFileTypes(): FileType[] {
  return FORMATS.filter((f) => f.export).map((f) => f.fileType);
}

export function importFileTypes(): FileType[] {
  return FORMATS.filter((f) => f.import).map((f) => f.fileType);
}

/** The bytes → COPY text encoder of a text format (CSV, JSON, NDJSON). */
export function createImportEncoder(fileType: string, opts: ImportEncoderOptions & ImportFileOptions): ImportEncoder {
  const shape = byType.get(fileType)?.import;
  if (shape?.kind !== 'bytes') throw new Error(`no byte encoder for ${fileType}`);
  return shape.createEncoder(opts);
}
