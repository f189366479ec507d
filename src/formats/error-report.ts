/**
 * The error report of a refused import: a CSV of the bad rows, in the table's columns, with the
 * reasons in a last column named `#error`. No field can have that name, so importing the fixed
 * report ignores the column and needs no editing beyond the fixes.
 *
 * The mail tells people to open it, and it holds whatever the file held: a cell a spreadsheet would
 * run as a formula always gets a leading `'` (csv-formulas.ts), and U+0000 or a lone surrogate
 * (which may be why the row was refused) is shown as its escape rather than written raw.
 */
import type { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { BUILTIN_FIELDS, type FieldSchema } from '../types/api.js';
import { escapeFormula } from './csv-formulas.js';
import { storableText } from './storable-text.js';
import { UnstorableValue } from './values.js';

export const ERROR_REPORT_COLUMN = '#error';

export interface ErrorReport {
  /** The report's bytes; store them while rows are added. */
  stream: Readable;
  add(line: number, row: Record<string, unknown> | undefined, reasons: string[]): void;
  end(): void;
  /** Rows added. */
  readonly rows: number;
}

export function createErrorReport(fields: readonly FieldSchema[]): ErrorReport {
  const columns = [...BUILTIN_FIELDS, ...fields.map((f) => f.name)];
  // Number columns keep their numbers (-5 is no formula, and the fixed report must import back).
  const numeric = [
    ...BUILTIN_FIELDS.map((b) => b === 'created_at' || b === 'updated_at'),
    ...fields.map((f) => f.type === 'integer' || f.type === 'number'),
  ];
  const out = stringify({ header: true, columns: [...columns, ERROR_REPORT_COLUMN], bom: true });
  let rows = 0;
  return {
    stream: out,
    get rows() {
      return rows;
    },
    add(line, row, reasons) {
      rows++;
      const record: unknown[] = columns.map((c, i) => escapeFormula(cell(row?.[c]), numeric[i]));
      record.push(escapeFormula(storableText(`line ${line}: ${reasons.join('; ')}`)));
      out.write(record);
    },
    end() {
      out.end();
    },
  };
}

function cell(v: unknown): string {
  // A value no field can store has no text to fix; the reasons column says what it was.
  if (v === undefined || v === null || v instanceof UnstorableValue) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return storableText(String(v));
}
