/**
 * The error report of a refused import: a CSV of the bad rows, in the table's columns, with the
 * reasons in a last column named `#error`. No field can have that name, so importing the fixed
 * report ignores the column and needs no editing beyond the fixes.
 */
import type { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { BUILTIN_FIELDS, type FieldSchema } from '../types/api.js';

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
  const out = stringify({ header: true, columns: [...columns, ERROR_REPORT_COLUMN], bom: true });
  let rows = 0;
  return {
    stream: out,
    get rows() {
      return rows;
    },
    add(line, row, reasons) {
      rows++;
      const record: unknown[] = columns.map((c) => cell(row?.[c]));
      record.push(`line ${line}: ${reasons.join('; ')}`);
      out.write(record);
    },
    end() {
      out.end();
    },
  };
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
