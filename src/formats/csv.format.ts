/** CSV: PostgreSQL's own COPY CSV writer out; the streaming tokenizer in, any delimiter. */
import { CsvImportEncoder } from './csv-import.encoder.js';
import type { FileFormat } from './format.js';

export const csvFormat: FileFormat = {
  fileType: 'csv',
  extension: '.csv',
  aliases: ['.tsv', '.txt'],
  contentType: 'text/csv; charset=utf-8',
  title: 'CSV',
  export: { kind: 'copy-csv' },
  import: { kind: 'bytes', createEncoder: (opts) => new CsvImportEncoder(opts) },
  // The last resort: any text that is not JSON is read as CSV, and the header check judges it.
  detect: (_head, text) => text !== undefined,
};
