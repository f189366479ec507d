/**
 * What an import does with its staged rows when they may meet rows already in the table
 * (`on_conflict=skip|update`, by `id` or by a `conflict_key` of fields), and what it keeps to be
 * undone: every statement runs on the import's claim transaction, after the rows were COPYed into
 * the staging table (rows.repository.ts), so the checks, the writes and the undo information
 * commit together with the job's success, or not at all.
 */
import type { FieldSchema } from '../../types/api.js';
import type { PoolClient } from '../pool.js';
import { copyColumns, dataTable, quoteIdent, ROW } from '../table-sql.js';
import { FILE, LINE, STAGED_ORDER, STAGING } from './rows.repository.js';

/** What an import did with its rows. */
export interface MergeCounts {
  inserted: number;
  updated: number;
  skipped: number;
}

/** Staged rows a `conflict_key` cannot place (file indexes the import's files; lines are 1-based). */
export type KeyProblem =
  | { kind: 'empty'; file: number; line: number; field: string }
  | { kind: 'repeat'; file: number; line: number; key: Record<string, unknown>; first_file: number; first_line: number }
  | { kind: 'ambiguous'; file: number; line: number; key: Record<string, unknown>; ids: string[]; matches: number }
  | { kind: 'id_taken'; file: number; line: number; id: string };

export interface KeyProblems {
  total: number;
  problems: KeyProblem[];
}

const UNDO = 'tableport.import_undo';
const UNDO_INSERTED = 'tableport.import_undo_inserted';
const UNDO_UPDATED = 'tableport.import_undo_updated';
/** Ids per row of `import_undo_inserted`. */
const IDS_PER_ROW = 10_000;

/** Stores the ids `source` (a query or CTE with an `id` column) yields as inserted by job `$1`, in arrays. */
function insertedIds(source: string): string {
  return `INSERT INTO ${UNDO_INSERTED} (job_id, row_ids)
          SELECT $1, array_agg(id) FROM (SELECT id, (row_number() OVER ()) / ${IDS_PER_ROW} AS chunk FROM ${source}) x GROUP BY chunk`;
}

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** `a.k1 = b.k1 AND ...` over the key's columns. */
function keyMatch(key: readonly string[], a: string, b: string): string {
  return key.map((k) => `${a}.${quoteIdent(k)} = ${b}.${quoteIdent(k)}`).join(' AND ');
}

/** The key's values of a row, as a JSON object for the messages. */
function keyJson(key: readonly string[], alias: string): string {
  return `jsonb_build_object(${key.map((k) => `${literal(k)}, ${alias}.${quoteIdent(k)}`).join(', ')})`;
}

export class UpsertRepository {
  /**
   * The undo header of an import. Its own xmin is the (sub)transaction writing it: written after
   * the rows, in the same (sub)transaction, it names the xmin every row the import wrote has, and
   * keeps while nobody changes it. It is never updated, so its xmin stays.
   */
  private async header(client: PoolClient, jobId: string, tableId: number, fields: FieldSchema[], at: Date): Promise<void> {
    await client.query(`INSERT INTO ${UNDO} (job_id, table_id, fields, created_at) VALUES ($1, $2, $3, $4)`, [
      jobId,
      tableId,
      JSON.stringify(fields),
      at,
    ]);
  }

  /**
   * After a plain import (COPY straight into the table), in the (sub)transaction that COPYed: the
   * rows this (sub)transaction wrote are the ones it inserted. One scan of the table finds them.
   */
  async recordInserted(client: PoolClient, jobId: string, tableId: number, fields: FieldSchema[], at: Date): Promise<void> {
    await this.header(client, jobId, tableId, fields, at);
    await client.query(insertedIds(`(SELECT t.id FROM ${dataTable(tableId)} t, ${UNDO} h WHERE h.job_id = $1 AND t.xmin = h.xmin) mine`), [
      jobId,
    ]);
  }

  /**
   * Moves the staged rows in by `id`: a row whose id is there is skipped or replaces it. The rows it
   * replaces are kept as they were, and the ids it inserts listed, for an undo.
   */
  async mergeById(
    client: PoolClient,
    jobId: string,
    tableId: number,
    fields: FieldSchema[],
    onConflict: 'skip' | 'update',
    at: Date,
  ): Promise<MergeCounts> {
    const t = dataTable(tableId);
    const cols = copyColumns(fields);
    const set = cols
      .split(', ')
      .filter((c) => c !== 'id')
      .map((c) => `${c} = EXCLUDED.${c}`)
      .join(', ');
    const action = onConflict === 'skip' ? 'DO NOTHING' : `DO UPDATE SET ${set}`;
    await this.header(client, jobId, tableId, fields, at);
    if (onConflict === 'update') {
      await client.query(
        `INSERT INTO ${UNDO_UPDATED} (job_id, row_id, previous)
         SELECT $1, ${ROW}.id, to_jsonb(${ROW}) FROM ${t} ${ROW} WHERE ${ROW}.id IN (SELECT id FROM ${STAGING})`,
        [jobId],
      );
    }
    // A row ON CONFLICT inserted has no xmax; one it updated carries the updating transaction's.
    const { rows } = await client.query<{ inserted: string; updated: string; staged: string }>(
      `WITH m AS (
         INSERT INTO ${t} (${cols}) SELECT ${cols} FROM ${STAGING} ORDER BY ${STAGED_ORDER} ON CONFLICT (id) ${action}
         RETURNING id, (xmax = 0) AS ins
       ), u AS (${insertedIds('m WHERE ins')})
       SELECT count(*) FILTER (WHERE ins) AS inserted, count(*) FILTER (WHERE NOT ins) AS updated,
              (SELECT count(*) FROM ${STAGING}) AS staged FROM m`,
      [jobId],
    );
    return counts(rows[0]);
  }

  /** Staged rows whose key (or id) matches a row of the table: what a dry run says would be updated or skipped. */
  async countMatches(client: PoolClient, tableId: number, key: readonly string[]): Promise<number> {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${STAGING} s WHERE EXISTS (SELECT 1 FROM ${dataTable(tableId)} r WHERE ${keyMatch(key, 'r', 's')})`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Takes the table for the rest of the import's transaction against other writers (readers go on):
   * what the key checks find must still hold when the rows are merged.
   */
  async lockForMerge(client: PoolClient, tableId: number): Promise<void> {
    await client.query(`LOCK TABLE ${dataTable(tableId)} IN SHARE ROW EXCLUSIVE MODE`);
  }

  /**
   * Staged rows a key cannot place, first of each kind found (in this order, each kind only when the
   * ones before it found nothing): a row whose key has an empty field, a key given twice in the
   * import, a key that matches more than one row of the table, and a new row whose id is taken.
   */
  async keyProblems(client: PoolClient, tableId: number, key: readonly string[], limit: number): Promise<KeyProblems> {
    const t = dataTable(tableId);
    const k = key.map(quoteIdent);
    type Counted<R> = R & { total: string };
    const total = (rows: Array<{ total: string }>) => Number(rows[0]?.total ?? 0);

    const empty = await client.query<Counted<{ file: number; line: string; field: string }>>(
      `SELECT ${FILE} AS file, ${LINE} AS line,
              CASE ${key.map((f) => `WHEN ${quoteIdent(f)} IS NULL THEN ${literal(f)}`).join(' ')} END AS field,
              count(*) OVER () AS total
         FROM ${STAGING} WHERE ${k.map((c) => `${c} IS NULL`).join(' OR ')} ORDER BY ${STAGED_ORDER} LIMIT $1`,
      [limit],
    );
    if (empty.rows.length)
      return {
        total: total(empty.rows),
        problems: empty.rows.map((r) => ({ kind: 'empty', file: r.file, line: Number(r.line), field: r.field })),
      };

    const repeat = await client.query<
      Counted<{ file: number; line: string; key: Record<string, unknown>; first_file: number; first_line: string }>
    >(
      `WITH s AS (
         SELECT ${FILE} AS file, ${LINE} AS line, ${keyJson(key, STAGING)} AS key,
                first_value(${FILE}) OVER w AS first_file, first_value(${LINE}) OVER w AS first_line, row_number() OVER w AS n
           FROM ${STAGING} WINDOW w AS (PARTITION BY ${k.join(', ')} ORDER BY ${STAGED_ORDER})
       )
       SELECT file, line, key, first_file, first_line, count(*) OVER () AS total FROM s WHERE n > 1 ORDER BY file, line LIMIT $1`,
      [limit],
    );
    if (repeat.rows.length)
      return {
        total: total(repeat.rows),
        problems: repeat.rows.map((r) => ({
          kind: 'repeat',
          file: r.file,
          line: Number(r.line),
          key: r.key,
          first_file: r.first_file,
          first_line: Number(r.first_line),
        })),
      };

    const ambiguous = await client.query<Counted<{ file: number; line: string; key: Record<string, unknown>; ids: string[]; n: string }>>(
      `SELECT s.${FILE} AS file, s.${LINE} AS line, ${keyJson(key, 's')} AS key,
              (array_agg(r.id ORDER BY r.id))[1:5] AS ids, count(*) AS n, count(*) OVER () AS total
         FROM ${STAGING} s JOIN ${t} r ON ${keyMatch(key, 'r', 's')}
        GROUP BY s.${FILE}, s.${LINE}, ${k.map((c) => `s.${c}`).join(', ')}
       HAVING count(*) > 1 ORDER BY s.${FILE}, s.${LINE} LIMIT $1`,
      [limit],
    );
    if (ambiguous.rows.length)
      return {
        total: total(ambiguous.rows),
        problems: ambiguous.rows.map((r) => ({
          kind: 'ambiguous',
          file: r.file,
          line: Number(r.line),
          key: r.key,
          ids: r.ids,
          matches: Number(r.n),
        })),
      };

    const taken = await client.query<Counted<{ file: number; line: string; id: string }>>(
      `SELECT s.${FILE} AS file, s.${LINE} AS line, s.id, count(*) OVER () AS total
         FROM ${STAGING} s
        WHERE NOT EXISTS (SELECT 1 FROM ${t} r WHERE ${keyMatch(key, 'r', 's')})
          AND EXISTS (SELECT 1 FROM ${t} r WHERE r.id = s.id)
        ORDER BY s.${FILE}, s.${LINE} LIMIT $1`,
      [limit],
    );
    return {
      total: total(taken.rows),
      problems: taken.rows.map((r) => ({ kind: 'id_taken', file: r.file, line: Number(r.line), id: r.id })),
    };
  }

  /**
   * Moves the staged rows in by a key of fields (checked by `keyProblems` first): a row whose key
   * matches one of the table's updates it (the fields the file gives, and `updated_at`) or is
   * skipped; the others are inserted. The table has no unique index on such a key, so this is an
   * UPDATE ... FROM and an INSERT of the rest rather than ON CONFLICT. The rows it updates are kept
   * as they were, and the ids it inserts listed, for an undo.
   */
  async mergeByKey(
    client: PoolClient,
    jobId: string,
    tableId: number,
    fields: FieldSchema[],
    key: readonly string[],
    onConflict: 'skip' | 'update',
    opts: { given: readonly string[]; now: number; at: Date },
  ): Promise<MergeCounts> {
    const t = dataTable(tableId);
    const cols = copyColumns(fields);
    await this.header(client, jobId, tableId, fields, opts.at);
    const staged = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${STAGING}`)).rows[0]?.n ?? 0);
    let updated = 0;
    if (onConflict === 'update') {
      await client.query(
        `INSERT INTO ${UNDO_UPDATED} (job_id, row_id, previous)
         SELECT $1, ${ROW}.id, to_jsonb(${ROW}) FROM ${t} ${ROW} JOIN ${STAGING} s ON ${keyMatch(key, ROW, 's')}`,
        [jobId],
      );
      const names = new Set(fields.map((f) => f.name));
      const sets = opts.given.filter((f) => names.has(f) && !key.includes(f)).map((f) => `${quoteIdent(f)} = s.${quoteIdent(f)}`);
      sets.push(opts.given.includes('updated_at') ? 'updated_at = s.updated_at' : `updated_at = ${Math.trunc(opts.now)}`);
      const res = await client.query(`UPDATE ${t} r SET ${sets.join(', ')} FROM ${STAGING} s WHERE ${keyMatch(key, 'r', 's')}`);
      updated = res.rowCount ?? 0;
    }
    const { rows } = await client.query<{ n: string }>(
      `WITH m AS (
         INSERT INTO ${t} (${cols})
         SELECT ${cols} FROM ${STAGING} s WHERE NOT EXISTS (SELECT 1 FROM ${t} r WHERE ${keyMatch(key, 'r', 's')}) ORDER BY ${STAGED_ORDER}
         RETURNING id
       ), u AS (${insertedIds('m')})
       SELECT count(*) AS n FROM m`,
      [jobId],
    );
    const inserted = Number(rows[0]?.n ?? 0);
    // Keys are unique in the import and match at most one row each (keyProblems): the rest were skipped.
    return { inserted, updated, skipped: Math.max(0, staged - inserted - updated) };
  }
}

function counts(r: { inserted: string; updated: string; staged: string } | undefined): MergeCounts {
  const inserted = Number(r?.inserted ?? 0);
  const updated = Number(r?.updated ?? 0);
  return { inserted, updated, skipped: Math.max(0, Number(r?.staged ?? 0) - inserted - updated) };
}
