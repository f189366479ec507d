/**
 * SQL text for user tables. Identifiers here come from validated schemas (see
 * tables.service.ts) and are still always quoted; numbers are checked integers.
 */
import { BUILTIN_FIELDS, type FieldSchema, type FieldType } from '../types/api.js';
import { escapeFormulaSql } from '../formats/csv-formulas.js';
import { compileOrderBy, compileWhere, queryFields, settingBinder, type Binder } from './query/index.js';

export const DATA_SCHEMA = 'tableport_data';

/** The PostgreSQL type of each field type: the column's type, and what a bound value is cast to. */
export const COLUMN_TYPES: Record<FieldType, string> = {
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
    CREATE INDEX t_${tableId}_created_idx ON ${t} (created_at, id);
    ${tombstoneTriggerSql(tableId)}`;
}

/**
 * Every data table records the ids of its deleted rows (tableport.tombstones, see the schedules
 * migration): one statement-level trigger, so any delete path, today's or tomorrow's, is covered,
 * at one INSERT ... SELECT per DELETE statement rather than one per row.
 */
export function tombstoneTriggerSql(tableId: number): string {
  return `CREATE TRIGGER tombstones AFTER DELETE ON ${dataTable(tableId)} REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION tableport.record_tombstones(${int(tableId)});`;
}

/** The COPY column list, in the order import encoders write: built-ins, then the schema's fields. */
export function copyColumns(fields: FieldSchema[]): string {
  return ['id', 'created_at', 'updated_at', 'created_by', ...fields.map((f) => quoteIdent(f.name))].join(', ');
}

const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * The alias of the subquery whose rows `row_to_json` renders, a name no field can have: a bare
 * `row_to_json(x)` takes a column named "x" before the row, and failed (a 500) on such a table.
 */
export const ROW = '"#row"';

/**
 * The select list that gives a row its exported shape. For CSV every value must be text that
 * reads back: booleans as true/false, dates as ISO 8601 in UTC, JSON as JSON text. For JSON the
 * native types stay (row_to_json renders them) except dates, which JSON has no type for.
 */
export function projection(fields: FieldSchema[], target: 'csv' | 'json'): string {
  return [...BUILTIN_FIELDS.map((b) => b as string), ...fields.map((f) => columnExpr(quoteIdent(f.name), f.type, target, false))].join(
    ', ',
  );
}

/**
 * One exported column: `expr AS "name"`, or the bare column when it needs no conversion.
 * `escapeFormulas`: a CSV's text cells that a spreadsheet would run get a leading `'` (csv-formulas.ts).
 */
function columnExpr(column: string, type: FieldType, target: 'csv' | 'json', unixToIso: boolean, escapeFormulas = false): string {
  if (unixToIso) return `to_char(to_timestamp(${column}) AT TIME ZONE 'UTC', ${ISO_UTC}) AS ${column}`;
  if (escapeFormulas && target === 'csv' && type === 'string') return `${escapeFormulaSql(column)} AS ${column}`;
  if (type === 'date') return `to_char(${column} AT TIME ZONE 'UTC', ${ISO_UTC}) AS ${column}`;
  if (target === 'csv' && (type === 'boolean' || type === 'array' || type === 'object')) return `${column}::text AS ${column}`;
  return column;
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
 * MinApp v1.5's export selection, as stored in the job's params (validated by the exports service):
 * the window plus a `where`, the columns, their order, CSV header names and timestamp conversion.
 */
export interface ExportSelection extends Window {
  where?: Record<string, unknown> | undefined;
  include_keys?: string[] | undefined;
  exclude_keys?: string[] | undefined;
  order_by?: string[] | undefined;
  csv_customize_headers?: string[] | undefined;
  timestamp_convert_keys?: string[] | undefined;
  /** Only what changed: rows created or updated, plus the ids of rows deleted, marked `_deleted` (docs/changes.md). */
  changes?: ChangesSelection | undefined;
}

/**
 * What "changed" means. `since` (Unix seconds, an export's `changes_since`): rows whose `updated_at`
 * is at least it, deletions at or after it. `after` (a schedule's run): the watermark of the
 * previous successful run (see {@link parseWatermark}), exact to the transaction (no gap, no
 * overlap); null for a first run, which takes every row and no deletion.
 */
export interface ChangesSelection {
  since?: number;
  after?: string | null;
  /**
   * What a row's 32-bit xmin is widened against (an xmax at or past every visible transaction's
   * id): a literal lets PostgreSQL inline the widening (measured: about ten times faster than
   * computing it in the statement). Absent: the statement's own snapshot's xmax.
   */
  ref?: string;
}

/** The marker column a changes export adds: true on a deleted row's id, false on every other row. */
export const DELETED_COLUMN = '_deleted';

const SNAPSHOT = /^(\d{1,20}):\d{1,20}:(\d{1,20}(,\d{1,20})*)?$/;
const XIDS = /^(\d{1,20}(,\d{1,20})*)?$/;

/**
 * A watermark is `<pg_snapshot>|<xids>`: the snapshot a run read in, and the transaction ids, from
 * the snapshot's xmin on, of the rows that run saw. A snapshot lists the top-level transactions in
 * progress but not their subtransactions, so a row written in a subtransaction of one of them
 * cannot be told from an old row by the snapshot alone; by the ids the run saw, it can.
 */
export function parseWatermark(w: string): { snapshot: string; xmin: string; seen: string[] } {
  const [snapshot = '', seen = ''] = w.split('|');
  const m = SNAPSHOT.exec(snapshot);
  if (!m || !XIDS.test(seen)) throw new Error(`not a watermark: ${JSON.stringify(w.slice(0, 80))}`);
  return { snapshot, xmin: m[1] ?? '0', seen: seen ? seen.split(',') : [] };
}

/** The current snapshot's xmax, computed once per statement: what a row's 32-bit xmin is widened against. */
const XMAX_NOW = '(SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint)';

/**
 * The transaction ids (from the snapshot's xmin on) of the rows a changes run sees, to run in that
 * run's REPEATABLE READ transaction: with its snapshot, the run's watermark.
 */
export function watermarkSeenSql(tableId: number, snapshot: string): string {
  const m = SNAPSHOT.exec(snapshot);
  if (!m) throw new Error(`not a pg_snapshot: ${JSON.stringify(snapshot.slice(0, 80))}`);
  const x = `tableport.xid8_of(xmin, ${snapshotXmax(snapshot)})`;
  return `SELECT coalesce(string_agg(x::text, ',' ORDER BY x), '') AS seen FROM (
      SELECT DISTINCT ${x} AS x FROM ${dataTable(tableId)} WHERE ${x} >= '${m[1]}'::xid8) s`;
}

/** A pg_snapshot's xmax, as digits. */
export function snapshotXmax(snapshot: string): string {
  if (!SNAPSHOT.test(snapshot)) throw new Error(`not a pg_snapshot: ${JSON.stringify(snapshot.slice(0, 80))}`);
  return snapshot.split(':')[1] ?? '0';
}

/**
 * The condition on a data table's rows (no alias) for a changes selection. After a watermark: a row
 * is new when its transaction is at or past the watermark's xmin and not one whose rows the
 * previous run saw (before that xmin, every transaction had ended when the previous run read).
 */
function changedRowsWhere(c: ChangesSelection): string {
  if (c.since !== undefined) return `updated_at >= ${int(c.since)}`;
  if (!c.after) return 'TRUE';
  const w = parseWatermark(c.after);
  if (c.ref !== undefined && !/^\d{1,20}$/.test(c.ref)) throw new Error(`not an xid: ${c.ref}`);
  const x = `tableport.xid8_of(xmin, ${c.ref ?? XMAX_NOW})`;
  return `(${x} >= '${w.xmin}'::xid8 AND NOT ${x} = ANY('{${w.seen.join(',')}}'::xid8[]))`;
}

/** The condition on tombstones (alias d) for a changes selection: what the previous run cannot have seen. */
function deletedWhere(c: ChangesSelection): string {
  if (c.since !== undefined) return `d.deleted_at >= ${int(c.since)}`;
  if (!c.after) return 'FALSE';
  // A tombstone carries its deleting transaction's top-level id, which a snapshot does list.
  return `NOT pg_visible_in_snapshot(d.xid, '${parseWatermark(c.after).snapshot}'::pg_snapshot)`;
}

/** The export's default order: oldest first, ties by id (the `(created_at, id)` index). */
export const DEFAULT_EXPORT_ORDER = ['created_at'];

/** The exported columns' names, in order: `include_keys`, or every column but `exclude_keys`. */
export function exportColumns(fields: FieldSchema[], sel: ExportSelection): string[] {
  if (sel.include_keys?.length) return sel.include_keys;
  const all = [...BUILTIN_FIELDS.map((b) => b as string), ...fields.map((f) => f.name)];
  const drop = new Set(sel.exclude_keys ?? []);
  return all.filter((n) => !drop.has(n));
}

/**
 * The exported columns with the type of what the file holds: a `timestamp_convert_keys` column
 * holds ISO 8601 text, as a `date` field does. For writers that name or type their columns
 * (SQL, Parquet, xlsx).
 */
export function exportColumnTypes(fields: FieldSchema[], sel: ExportSelection): Array<{ name: string; type: FieldType }> {
  const byName = queryFields(fields);
  const convert = new Set(sel.timestamp_convert_keys ?? []);
  const cols = exportColumns(fields, sel).map((name) => ({
    name,
    type: convert.has(name) ? 'date' : (byName.get(name)?.type ?? 'string'),
  }));
  return sel.changes ? [...cols, { name: DELETED_COLUMN, type: 'boolean' as const }] : cols;
}

const CHECKED_VALUES = { maxCellBytes: Number.POSITIVE_INFINITY, maxJsonDepth: Number.POSITIVE_INFINITY };

/** The condition of a selection: the window and the compiled `where` (values through `binder`). */
export function selectionWhere(fields: FieldSchema[], sel: ExportSelection, binder: Binder): string {
  const conds: string[] = [];
  if (sel.start !== undefined && sel.start !== null) conds.push(`created_at >= ${int(sel.start)}`);
  if (sel.end !== undefined && sel.end !== null) conds.push(`created_at < ${int(sel.end)}`);
  // A stored selection's values kept MAX_CELL_BYTES and MAX_JSON_DEPTH when it was asked for (see
  // validateSelection): compiled again here, they are not measured a second time.
  if (sel.where && Object.keys(sel.where).length) conds.push(compileWhere(sel.where, fields, binder, 'where', CHECKED_VALUES).sql);
  if (sel.changes) conds.push(changedRowsWhere(sel.changes));
  return conds.length ? `WHERE ${conds.join(' AND ')}` : '';
}

/** The SELECT of an export, with the values its `where` reads from session settings (see settingBinder). */
export function exportSelect(
  tableId: number,
  fields: FieldSchema[],
  target: 'csv' | 'json',
  sel: ExportSelection,
  binder: Binder = settingBinder(),
  limit?: number,
  escapeFormulas = false,
): { select: string; settings: string[] } {
  const byName = queryFields(fields);
  const convert = new Set(sel.timestamp_convert_keys ?? []);
  const cols = exportColumns(fields, sel).map((name) => {
    const f = byName.get(name);
    if (!f) throw new Error(`export column ${name} is not a field`);
    return columnExpr(f.column, f.type, target, convert.has(name), escapeFormulas);
  });
  const where = selectionWhere(fields, sel, binder);
  const order = compileOrderBy(sel.order_by, fields, DEFAULT_EXPORT_ORDER);
  // `limit` (an export's cap + 1) lets PostgreSQL enforce the cap: no byte has to be counted in JavaScript.
  const bound = limit === undefined ? '' : ` LIMIT ${limitLiteral(limit)}`;
  if (sel.changes)
    return {
      select: changesSelect(tableId, exportColumns(fields, sel), cols, where, order, sel.changes, bound, target),
      settings: binder.values,
    };
  return { select: `SELECT ${cols.join(', ')} FROM ${dataTable(tableId)} ${where} ORDER BY ${order}${bound}`, settings: binder.values };
}

/**
 * A changes export: the changed rows in the export's order, `_deleted` false, then the ids of the
 * rows deleted since (and not there again), `_deleted` true, every other column empty. A row
 * deleted and then written again is only a row: whoever applies the file upserts rows and deletes ids.
 */
function changesSelect(
  tableId: number,
  names: string[],
  cols: string[],
  where: string,
  order: string,
  c: ChangesSelection,
  bound: string,
  target: 'csv' | 'json',
): string {
  const t = dataTable(tableId);
  // CSV booleans read back as true/false, as the other boolean cells are written.
  const [no, yes] = target === 'csv' ? [`'false'`, `'true'`] : ['false', 'true'];
  const gone = names.map((n) => (n === 'id' ? 'd.row_id AS id' : `NULL AS ${quoteIdent(n)}`));
  return `SELECT ${names.map(quoteIdent).join(', ')}, ${DELETED_COLUMN} FROM (
      (SELECT ${cols.join(', ')}, ${no} AS ${DELETED_COLUMN}, 0 AS "#p", row_number() OVER (ORDER BY ${order}) AS "#n" FROM ${t} ${where})
      UNION ALL
      (SELECT ${gone.join(', ')}, ${yes}, 1, row_number() OVER (ORDER BY d.row_id)
         FROM (SELECT DISTINCT row_id FROM tableport.tombstones d
                WHERE d.table_id = ${int(tableId)} AND ${deletedWhere(c)}
                  AND NOT EXISTS (SELECT 1 FROM ${t} r WHERE r.id = d.row_id)) d)
    ) "#u" ORDER BY "#p", "#n"${bound}`;
}

function limitLiteral(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a row limit: ${n}`);
  return String(n);
}

/**
 * The COPY statement of an export. CSV is PostgreSQL's own CSV writer (RFC 4180 quoting). JSON
 * is one row_to_json object per line; the CSV format with quote and delimiter bytes that JSON
 * text never holds raw (it escapes every control character) passes the lines through untouched,
 * where the text format would double every backslash. With `csv_customize_headers` PostgreSQL
 * writes no header: the caller writes the given one (identifiers would cut names at 63 bytes).
 */
export function exportCopySql(
  tableId: number,
  fields: FieldSchema[],
  fileType: 'csv' | 'json',
  w: ExportSelection,
  csv: CsvOptions = CSV_DEFAULTS,
  binder?: Binder,
  limit?: number,
): string {
  const { select } = exportSelect(tableId, fields, fileType, w, binder, limit, fileType === 'csv' && csv.escapeFormulas === true);
  if (fileType === 'csv') {
    const delimiter = csv.delimiter === ',' ? '' : `, DELIMITER ${charLiteral(csv.delimiter)}`;
    // With csv_customize_headers PostgreSQL writes no header: copyOut writes the given names.
    const header = csv.header && !w.csv_customize_headers?.length;
    return `COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER ${header}${delimiter})`;
  }
  return `COPY (SELECT row_to_json(${ROW}) FROM (${select}) ${ROW}) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`;
}

/** PostgreSQL's CSV writer options an export may change. */
export interface CsvOptions {
  /** One ASCII character other than a quote or a line break. */
  delimiter: string;
  header: boolean;
  /** `csv_escape_formulas`: text cells starting with = + - @ TAB or CR get a leading `'`. */
  escapeFormulas?: boolean;
}

const CSV_DEFAULTS: CsvOptions = { delimiter: ',', header: true };

/** A one-character literal as an escape, so no character can end the literal early. */
function charLiteral(c: string): string {
  const code = c.charCodeAt(0);
  if (c.length !== 1 || code >= 0x80) throw new Error(`not a one-byte character: ${JSON.stringify(c)}`);
  return `E'\\x${code.toString(16).padStart(2, '0')}'`;
}
