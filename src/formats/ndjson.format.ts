/** NDJSON (JSON Lines): one row object per line; PostgreSQL's row_to_json output as it is. */
import type { FileFormat } from './format.js';
import { LineCounter } from './line-counter.transform.js';
import { NdjsonImportEncoder } from './ndjson-import.encoder.js';

export const ndjsonFormat: FileFormat = {
  fileType: 'ndjson',
  extension: '.ndjson',
  aliases: ['.jsonl'],
  contentType: 'application/x-ndjson; charset=utf-8',
  title: 'NDJSON',
  export: { kind: 'json-lines', createTransform: ({ onRows }) => new LineCounter({ onRows }) },
  import: { kind: 'bytes', createEncoder: (opts) => new NdjsonImportEncoder(opts) },
  // An empty file (or only white space) is an NDJSON file of no rows: what exporting an empty table writes.
  detect: (_head, text) => text !== undefined && (text === '' || text.startsWith('{')),
};
