/**
 * Numbers as spreadsheets write them into CSV: `3,5` and `1.234,56` where the decimal separator is
 * a comma (most of Europe, whose Excel also separates cells with `;`), `1,234.56` where it is a
 * point. With a decimal separator chosen (`decimal_separator`, or detected), a number cell may
 * group its integer digits in threes by the other mark, a space, a no-break space or `'`; it is
 * brought to PostgreSQL's syntax (`1234.56`) before the usual checks. Without one, cells are read
 * as they always were (a point, no grouping), and a cell that looks like a decimal comma says so.
 */
import { show } from './values.js';

export type DecimalSeparator = '.' | ',';

const GROUP_MARKS: Record<DecimalSeparator, string> = { ',': ".\\u00a0\\u202f' ", '.': ",\\u00a0\\u202f' " };

function numberPattern(decimal: DecimalSeparator): RegExp {
  const d = decimal === ',' ? ',' : '\\.';
  const g = `[${GROUP_MARKS[decimal]}]`;
  // sign, then integer digits (grouped in threes by one mark, or not grouped), then a fraction and an exponent.
  return new RegExp(`^([+-]?)(?:(\\d{1,3}(?:(${g})\\d{3})(?:\\3\\d{3})*|\\d+)(?:${d}(\\d*))?|${d}(\\d+))([eE][+-]?\\d+)?$`);
}

const PATTERNS: Record<DecimalSeparator, RegExp> = { ',': numberPattern(','), '.': numberPattern('.') };

/** `cell` in PostgreSQL's number syntax (`-1234.5`), or undefined when it is no number written with `decimal`. */
export function normalizeNumberText(cell: string, decimal: DecimalSeparator): string | undefined {
  const m = PATTERNS[decimal].exec(cell.trim());
  if (!m) return undefined;
  const [, sign, grouped, mark, frac, onlyFrac, exp] = m;
  const int = grouped === undefined ? '0' : mark === undefined ? grouped : grouped.split(mark).join('');
  const fraction = onlyFrac ?? frac;
  return `${sign}${int}${fraction ? `.${fraction}` : ''}${exp ?? ''}`;
}

/** The words after an error about `cell`, when it is written with `decimal`: "got "1.5" (decimal_separator is ",")". */
export function notWrittenWith(cell: string, decimal: DecimalSeparator): string {
  return `must be a number written with "${decimal}" as the decimal separator (the import's decimal_separator), got ${show(cell)}`;
}

// A comma between digits that cannot be a thousands mark: "3,5", "1234,56", "1.234,5".
const COMMA_DECIMAL = /^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)?,\d+$/;
const COMMA_GROUPED = /^[+-]?\d{1,3}(?:,\d{3})+$/;
// A point that cannot be a thousands mark: "3.5", "1234.56", "1,234.5".
const POINT_DECIMAL = /^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?\.\d+$/;
const POINT_GROUPED = /^[+-]?\d{1,3}(?:\.\d{3})+$/;

/** Whether a cell that failed as a number looks like one with a decimal comma (to say so in the error). */
export function looksLikeDecimalComma(cell: string): boolean {
  return COMMA_DECIMAL.test(cell);
}

/**
 * The decimal separator the number cells of a file's head use, when they say so without doubt:
 * some cells can only be read with a comma (`3,5`), none only with a point (`3.5`), or the other
 * way round. Cells both readings take (`1,234`: a thousand or one and a bit) are no evidence.
 */
export function detectDecimalSeparator(cells: Iterable<string>): DecimalSeparator | undefined {
  let comma = 0;
  let point = 0;
  for (const raw of cells) {
    const c = raw.trim();
    if (COMMA_DECIMAL.test(c) && !COMMA_GROUPED.test(c)) comma++;
    else if (POINT_DECIMAL.test(c) && !POINT_GROUPED.test(c)) point++;
  }
  if (comma > 0 && point === 0) return ',';
  if (point > 0 && comma === 0) return '.';
  return undefined;
}
