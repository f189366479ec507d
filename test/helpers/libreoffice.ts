/**
 * LibreOffice Calc as a test's independent reader and writer of spreadsheets: `soffice --headless
 * --convert-to`, with a profile of its own per run (two instances sharing one would wait on each
 * other's lock). Debian's package: `apt-get install libreoffice-calc-nogui` (.ci/run installs it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Whether `soffice` is on the PATH. */
export const SOFFICE = spawnSync('soffice', ['--version'], { encoding: 'utf8' }).status === 0;

/**
 * Why a test of LibreOffice's reading is skipped, or false to run it. In CI it runs, or fails
 * for want of LibreOffice: a green run must have asked LibreOffice.
 */
export const WITHOUT_SOFFICE: string | false =
  SOFFICE || process.env.CI ? false : 'LibreOffice is not installed (apt-get install libreoffice-calc-nogui)';

/**
 * Converts files with LibreOffice: `filter` as `--convert-to` takes it (`fods`, `xlsx`, or
 * `csv:Text - txt - csv (StarCalc):…`); returns the paths written, one per file, in order.
 */
export async function convertWithLibreOffice(files: string[], filter: string, extension: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tableport-soffice-'));
  const profile = pathToFileURL(join(dir, 'profile')).href;
  const out = join(dir, 'out');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('soffice', [`-env:UserInstallation=${profile}`, '--headless', '--convert-to', filter, '--outdir', out, ...files], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let said = '';
    child.stdout.on('data', (c: Buffer) => (said += c.toString()));
    child.stderr.on('data', (c: Buffer) => (said += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`soffice exited ${code}: ${said.trim()}`));
    });
  });
  return files.map((f) => join(out, `${basename(f).replace(/\.[^.]+$/, '')}.${extension}`));
}

/** A cell of a flat ODF spreadsheet (`.fods`) as LibreOffice wrote it. */
export interface OdsCell {
  /** `float`, `date`, `string`, `boolean`, …; undefined for an empty cell. */
  type: string | undefined;
  /** `office:date-value` (dates) or `office:value` (numbers). */
  value: string | undefined;
  /** The text of its paragraphs. */
  text: string;
}

function xmlText(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] ?? '');
}

/** The rows of the first sheet of a `.fods` file, each as its cells (repeated empty cells at a row's end left out). */
export async function odsRows(file: string): Promise<OdsCell[][]> {
  const xml = await readFile(file, 'utf8');
  const table = xml.slice(xml.indexOf('<table:table '), xml.indexOf('</table:table>'));
  const rows: OdsCell[][] = [];
  for (const [, row] of table.matchAll(/<table:table-row\b[^>]*>([\s\S]*?)<\/table:table-row>/g)) {
    const cells: OdsCell[] = [];
    for (const m of (row as string).matchAll(/<table:table-cell\b([^>]*?)(?:\/>|>([\s\S]*?)<\/table:table-cell>)/g)) {
      const attrs = m[1] as string;
      const attr = (name: string): string | undefined => new RegExp(`\\s${name}="([^"]*)"`).exec(attrs)?.[1];
      const type = attr('office:value-type');
      const value = attr('office:date-value') ?? attr('office:value');
      const text = [...(m[2] ?? '').matchAll(/<text:p>([\s\S]*?)<\/text:p>/g)]
        .map((p) => xmlText((p[1] as string).replace(/<text:s\/>/g, ' ').replace(/<[^>]+>/g, '')))
        .join('\n');
      const repeat = Number(/table:number-columns-repeated="(\d+)"/.exec(attrs)?.[1] ?? 1);
      const cell: OdsCell = { type, value, text };
      for (let i = 0; i < Math.min(repeat, 64); i++) cells.push(cell);
    }
    while (cells.length && cells[cells.length - 1]?.type === undefined) cells.pop();
    rows.push(cells);
  }
  return rows;
}
