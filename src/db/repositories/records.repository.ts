/**
 * The records API's SQL: pages selected by a compiled `where`/`order_by` and cut at a byte budget,
 * one row by id, and atomic updates. Rows leave PostgreSQL as JSON text and go to the client as
 * is, so a page costs its bytes once, not a parsed copy as well.
 */
import type { FieldSchema, TableRow } from '../../types/api.js';
import type { Pool } from '../pool.js';
import { assertRegexes } from '../query/regex-check.js';
import { singleRow } from '../single-row.js';
import { dataTable, projection, ROW } from '../table-sql.js';

export interface PageSelection {
  /** A SQL condition whose parameters are `$1`..`$n` (a `parameterBinder()` with no offset). */
  whereSql: string;
  whereValues: string[];
  orderSql: string;
  limit: number;
  offset: number;
  /** Rows are returned while the JSON before them is under this many bytes (at least one row). */
  maxBytes: number;
}

export class RecordsRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * One page as JSON texts, plus the count of the whole selection and of the page before the cut.
   * The cut is made in PostgreSQL by a running sum of the rows' sizes, so rows past the budget
   * never reach this process. Rows are numbered by the page's own order (`"#n"`, a name no field
   * can have), so the sum runs in that order.
   */
  async page(tableId: number, fields: FieldSchema[], s: PageSelection): Promise<{ total: number; pageRows: number; rows: string[] }> {
    const t = dataTable(tableId);
    const where = `WHERE ${s.whereSql}`;
    const k = s.whereValues.length;
    const [limit, offset, budget] = [`$${k + 1}`, `$${k + 2}`, `$${k + 3}`];
    const [count, page] = await Promise.all([
      this.pool.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${t} ${where}`, s.whereValues),
      this.pool.query<{ j: string; m: number }>(
        `SELECT j, m FROM (
           SELECT j, n, m, sum(octet_length(j)) OVER (ORDER BY n ROWS UNBOUNDED PRECEDING) - octet_length(j) AS before
           FROM (
             SELECT (SELECT row_to_json(${ROW})::text FROM (SELECT ${projection(fields, 'json')}) ${ROW}) AS j, q."#n" AS n, count(*) OVER () AS m
             FROM (
               SELECT *, row_number() OVER (ORDER BY ${s.orderSql}) AS "#n" FROM ${t} ${where}
               ORDER BY ${s.orderSql} LIMIT ${limit} OFFSET ${offset}
             ) q
           ) y
         ) z WHERE before < ${budget} ORDER BY n`,
        [...s.whereValues, s.limit, s.offset, s.maxBytes],
      ),
    ]);
    return { total: singleRow(count.rows, 'The record count').n, pageRows: page.rows[0]?.m ?? 0, rows: page.rows.map((r) => r.j) };
  }

  async get(tableId: number, fields: FieldSchema[], id: string): Promise<TableRow | null> {
    const { rows } = await this.pool.query<{ r: TableRow }>(
      `SELECT row_to_json(${ROW}) AS r FROM (SELECT ${projection(fields, 'json')} FROM ${dataTable(tableId)} WHERE id = $1) ${ROW}`,
      [id],
    );
    return rows[0]?.r ?? null;
  }

  async delete(tableId: number, id: string): Promise<boolean> {
    const res = await this.pool.query(`DELETE FROM ${dataTable(tableId)} WHERE id = $1`, [id]);
    return (res.rowCount ?? 0) > 0;
  }

  /**
   * One UPDATE: every assignment reads the row as PostgreSQL locks it, so concurrent `$incr_by`s
   * each count. `$1` is the id, `$2` the new `updated_at`, `values` bind from `$3` on. Null when
   * no row has the id or a guard refused the new values.
   */
  async update(
    tableId: number,
    fields: FieldSchema[],
    id: string,
    updatedAt: number,
    u: { sets: string[]; guards: string[]; values: Array<string | null> },
  ): Promise<TableRow | null> {
    const t = dataTable(tableId);
    const guards = u.guards.map((g) => ` AND ${g}`).join('');
    const { rows } = await this.pool.query<{ r: TableRow }>(
      `WITH u AS (UPDATE ${t} SET updated_at = $2, ${u.sets.join(', ')} WHERE id = $1${guards} RETURNING *)
       SELECT row_to_json(${ROW}) AS r FROM (SELECT ${projection(fields, 'json')} FROM u) ${ROW}`,
      [id, updatedAt, ...u.values],
    );
    return rows[0]?.r ?? null;
  }

  /** Refuses (400) a `$regex` PostgreSQL cannot compile. */
  checkRegexes(patterns: string[]): Promise<void> {
    return assertRegexes(this.pool, patterns);
  }
}
