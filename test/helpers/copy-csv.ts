/**
 * Rows as PostgreSQL's `COPY ... TO STDOUT (FORMAT csv)` writes an export's SELECT (the input of the
 * writers that rewrite it: SQL, xlsx): no header, `,` between fields, a NULL as nothing, an empty
 * string as `""`, a field quoted only when it holds `,` `"` CR or LF (or is empty), booleans as
 * `true`/`false`, arrays and objects as their JSON text, every row ended by LF.
 */
import type { ExportColumn } from '../../src/formats/format.js';

function field(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text =
    typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : JSON.stringify(v);
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One line per row, a row at a time (for many rows). */
export function* copyCsvLines(rows: Iterable<Record<string, unknown>>, columns: readonly ExportColumn[]): Generator<string> {
  for (const row of rows) yield `${columns.map((c) => field(row[c.name])).join(',')}\n`;
}

export function copyCsvOf(rows: Iterable<Record<string, unknown>>, columns: readonly ExportColumn[]): string {
  return [...copyCsvLines(rows, columns)].join('');
}
