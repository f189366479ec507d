/** Workbooks for tests, written and read by exceljs (a maintained xlsx library, independent of tableport's own). */
import ExcelJS from 'exceljs';

/** A one-sheet workbook of `rows` (the first is the header); numbers and booleans stay typed cells. */
export async function xlsxOf(rows: unknown[][], sheet = 'Data'): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(sheet);
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** The first sheet of a workbook, as exceljs reads it. */
export async function firstSheet(bytes: Buffer): Promise<ExcelJS.Worksheet> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  const ws = wb.worksheets[0];
  if (!ws) throw new Error('the workbook has no sheet');
  return ws;
}
