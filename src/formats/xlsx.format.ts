/** xlsx: one sheet named after the table, header row, real numbers, booleans and dates, written from PostgreSQL's CSV (`src/formats/xlsx/`). */
import type { FileFormat } from './format.js';
import { chooseXlsxSheet, createXlsxExportWriter, isXlsx, listXlsxSheets, readXlsxRows } from './xlsx/index.js';

export const xlsxFormat: FileFormat = {
  fileType: 'xlsx',
  extension: '.xlsx',
  contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  title: 'xlsx',
  export: { kind: 'csv-rewrite', createTransform: createXlsxExportWriter },
  import: {
    kind: 'rows',
    read: readXlsxRows,
    // Measured: docs/benchmarks.md, "xlsx: the reader in a worker thread".
    thread: { url: new URL('./xlsx/xlsx-import.reader.js', import.meta.url).href, name: 'readXlsxRows' },
    sheet: chooseXlsxSheet,
    sheets: listXlsxSheets,
  },
  detect: (head) => isXlsx(head),
};
