/** JSON: one array of row objects, from PostgreSQL's row_to_json lines. */
import type { FileFormat } from './format.js';
import { JsonArrayTransform } from './json-array.transform.js';
import { JsonImportEncoder } from './json-import.encoder.js';

export const jsonFormat: FileFormat = {
  fileType: 'json',
  extension: '.json',
  contentType: 'application/json; charset=utf-8',
  title: 'JSON',
  export: { kind: 'json-lines', createTransform: ({ onRows }) => new JsonArrayTransform({ onRows }) },
  import: { kind: 'bytes', createEncoder: (opts) => new JsonImportEncoder(opts) },
  detect: (_head, text) => text?.startsWith('[') ?? false,
};
