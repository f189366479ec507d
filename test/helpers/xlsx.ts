/** Workbooks for tests, written and read by exceljs (a maintained xlsx library, independent of tableport's own), and the raw parts of a zip. */
import ExcelJS from 'exceljs';
import yauzl from 'yauzl';

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

/** One part of an xlsx (or any zip) file, as text: `xl/worksheets/sheet1.xml`. */
export async function zipPart(file: string, name: string): Promise<string> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  try {
    return await new Promise<string>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName !== name) {
          zip.readEntry();
          return;
        }
        zip.openReadStream(e, (err, s) => {
          if (err) return reject(err);
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          s.on('error', reject);
        });
      });
      zip.on('end', () => reject(new Error(`${file} has no ${name}`)));
      zip.on('error', reject);
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}
