/** xlsx: a streaming export writer, a streaming first-sheet reader and content detection. */
export {
  createXlsxExportWriter,
  excelSerial,
  XlsxExportWriter,
  XLSX_MAX_DATA_ROWS,
  XLSX_MAX_CELL_CHARS,
  XLSX_DATE_FORMAT,
  type XlsxExportWriterOptions,
} from './xlsx-export.writer.js';
export { chooseXlsxSheet, listXlsxSheets, readXlsxRows, UnknownSheetError, type XlsxReadOptions } from './xlsx-import.reader.js';
export { isXlsx, xlsxHeadProblem, zipEntryNames, ZIP_MAGIC } from './xlsx-detect.js';
export { xlsxSheetName, XLSX_SHEET_NAME_MAX } from './sheet-name.js';
