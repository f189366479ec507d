/**
 * SQL text for user tables. Identifiers here come from validated schemas (see
 * tables.service.ts) and are still always quoted; numbers are checked integers.
 */
import type { FieldSchema, FieldType } from '../types/api.js';

export const DATA_SCHEMA = 'tableport_data';

const COLUMN_TYPES: Record<FieldType, string> = {
  string: 'text',
  integer: 'bigint',
  number: 'double precision',
  boolean: 'boolean',
  date: 'timestamptz',
  array: 'jsonb',
  object: 'jsonb',
};

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function dataTable(tableId: number): string {
  if (!Number.isSafeInteger(tableId) || tableId <= 0) throw new Error(`bad table id ${tableId}`);
  return `${DATA_SCHEMA}.t_${tableId}`;
}

export function createTableSql(tableId: number, fields: FieldSchema[]): string {
  const cols = [
    'id text COLLATE "C" PRIMARY KEY',
    'created_at bigint NOT NULL',
    'updated_at bigint NOT NULL',
    'created_by text',
    ...fields.map((f) => `${quoteIdent(f.name)} ${COLUMN_TYPES[f.type]}`),
  ];
  const t = dataTable(tableId);
  return `CREATE TABLE ${t} (${cols.join(', ')});
    CREATE INDEX t_${tableId}_created_idx ON ${t} (created_at, id);`;
}

/** The COPY column list, in the order import encoders write: built-ins, then the schema's fields. */
export function copyColumns(fields: FieldSchema[]): string {
  return ['id', 'created_at', 'updated_at', 'created_by', ...fields.map((f) => quoteIdent(f.name))].join(', ');
}

const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * The select list that gives a row its exported shape. For CSV every value must be text that
 * reads back: booleans as true/false, dates as ISO 8601 in UTC, JSON as JSON text. For JSON the
 * native types stay (row_to_json renders them) except dates, which JSON has no type for.
 */
export function projection(fields: FieldSchema[], target: 'csv' | 'json'): string {
  const cols = ['id', 'created_at', 'updated_at', 'created_by'];
  for (const f of fields) {
    const c = quoteIdent(f.name);
    if (f.type === 'date') cols.push(`to_char(${c} AT TIME ZONE 'UTC', ${ISO_UTC}) AS ${c}`);
    else if (target === 'csv' && (f.type === 'boolean' || f.type === 'array' || f.type === 'object'))
      cols.push(`${c}::text AS ${c}`);
    else cols.push(c);
  }
  return cols.join(', ');
}

/** A `[start, end)` window on created_at; either bound may be open. */
export interface Window {
  start?: number | undefined;
  end?: number | undefined;
}

export function windowWhere(w: Window): string {
  const conds: string[] = [];
  if (w.start !== undefined) conds.push(`created_at >= ${int(w.start)}`);
  if (w.end !== undefined) conds.push(`created_at < ${int(w.end)}`);
  return conds.length ? `WHERE ${conds.join(' AND ')}` : '';
}

function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return String(n);
}

/**
 * The COPY statement of an export. CSV is PostgreSQL's own CSV writer (RFC 4180 quoting). JSON
 * is one row_to_json object per line; the CSV format with quote and delimiter bytes that JSON
 * text never holds raw (it escapes every control character) passes the lines through untouched,
 * where the text format would double every backslash.
 */
export function exportCopySql(tableId: number, fields: FieldSchema[], fileType: 'csv' | 'json', w: Window, csv: CsvOptions = CSV_DEFAULTS): string {
  const select = `SELECT ${projection(fields, fileType)} FROM ${dataTable(tableId)} ${windowWhere(w)} ORDER BY created_at, id`;
  if (fileType === 'csv') {
    const delimiter = csv.delimiter === ',' ? '' : `, DELIMITER ${charLiteral(csv.delimiter)}`;
    return `COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER ${csv.header}${delimiter})`;
  }
  return `COPY (SELECT row_to_json(r) FROM (${select}) r) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`;
}

/** PostgreSQL's CSV writer options an export may change. */
export interface CsvOptions {
  /** One ASCII character other than a quote or a line break. */
  delimiter: string;
  header: boolean;
}

const CSV_DEFAULTS: CsvOptions = { delimiter: ',', header: true };

/** A one-character literal as an escape, so no character can end the literal early. */
function charLiteral(c: string): string {
  const code = c.charCodeAt(0);
  if (c.length !== 1 || code >= 0x80) throw new Error(`not a one-byte character: ${JSON.stringify(c)}`);
  return `E'\\x${code.toString(16).padStart(2, '0')}'`;
}
