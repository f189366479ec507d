/** SQL (export only): one INSERT statement per row. */
import type { FileFormat } from './format.js';
import { createSqlExportWriter } from './sql-export.writer.js';

export const sqlFormat: FileFormat = {
  fileType: 'sql',
  extension: '.sql',
  contentType: 'application/sql; charset=utf-8',
  title: 'SQL',
  export: { kind: 'csv-rewrite', createTransform: createSqlExportWriter },
  detect: () => false,
};
