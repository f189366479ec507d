import { PassThrough, pipeline, type Readable, type Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { from as copyFrom, type CopyToStreamQuery } from 'pg-copy-streams';
import type { FieldSchema, TableRow } from '../../types/api.js';
import type { Pool, PoolClient } from '../pool.js';
import { escapeFormula } from '../../formats/csv-formulas.js';
import { copyToStream } from '../copy-to.stream.js';
import { parameterBinder, settingsSql } from '../query/index.js';
import { assertRegexes } from '../query/regex-check.js';
import { singleRow } from '../single-row.js';
import {
  copyColumns,
  dataTable,
  DELETED_COLUMN,
  exportCopySql,
  exportSelect,
  projection,
  ROW,
  selectionWhere,
  type CsvOptions,
  type ExportSelection,
  snapshotXmax,
  watermarkSeenSql,
} from '../table-sql.js';

export const STAGING = 'tableport_import_staging';
/** Heaps up to this size are counted whole (see RowsRepository.countUpTo): ~4M wide rows, ~2 s of parallel scan at worst. */
export const FULL_COUNT_MAX_BYTES = 1024 * 1024 * 1024;
// Not possible field names (fields are identifiers), so they cannot clash with the table's columns.
export const LINE = '"#line"';
/**
 * Which of the import's files a staged row came from (0 for the first): with the line, where a row
 * is. The line alone is not: a folder's files each start at line 1. A column default set once per
 * file, so staging costs nothing more per row.
 */
export const FILE = '"#file"';
/**
 * The import's order. Rows on one line (a JSON array written on one line) tie: which of them counts
 * as an id's first does not change what its repeats say ("already appears earlier on line 1").
 */
export const STAGED_ORDER = `${FILE}, ${LINE}`;

/** Staged rows whose id repeats (`file` and `first_file` index the import's files; lines are 1-based). */
export interface StagedDuplicates {
  total: number;
  rows: Array<{ id: string; file: number; line: number; first_file: number; first_line: number; existing: boolean }>;
}

export interface RowsRepositoryOptions {
  /** Heaps up to this many bytes are counted whole (default {@link FULL_COUNT_MAX_BYTES}); tests lower it. */
  fullCountMaxBytes?: number;
}

export class RowsRepository {
  private readonly fullCountMaxBytes: number;

  constructor(
    private readonly pool: Pool,
    opts: RowsRepositoryOptions = {},
  ) {
    this.fullCountMaxBytes = opts.fullCountMaxBytes ?? FULL_COUNT_MAX_BYTES;
  }

  /**
   * Rows in the selection (window and `where`), exact up to `cap + 1`: enough to tell "over the cap".
   * On a table whose heap is at most {@link FULL_COUNT_MAX_BYTES}, a plain `count(*)`: PostgreSQL
   * counts in its parallel workers and returns one number, about twice as fast as the capped form,
   * whose every matching row crosses from the workers to the leader (measured at 1M rows: 128 vs
   * 230 ms for a window, 130 vs 280 ms for a `where`; docs/benchmarks.md). On a bigger table the
   * count stops at `cap + 1` rows, so a refusal never costs a scan of all of it.
   */
  async countUpTo(tableId: number, selection: ExportSelection, cap: number, fields: FieldSchema[]): Promise<number> {
    let w = selection;
    const table = dataTable(tableId);
    const size = await this.pool.query<{ bytes: string }>('SELECT pg_relation_size($1::regclass) AS bytes', [table]);
    const small = Number(singleRow(size.rows, 'The table size').bytes) <= this.fullCountMaxBytes;
    if (w.changes?.after && w.changes.ref === undefined) {
      // Widened against an xmax a billion transactions ahead: still below any row's id plus 2^32, and a literal.
      const ref = await this.pool.query<{ r: string }>(
        'SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1073741824)::text AS r',
      );
      w = { ...w, changes: { ...w.changes, ref: singleRow(ref.rows, 'The snapshot').r } };
    }
    const binder = parameterBinder(small ? 0 : 1);
    const where = selectionWhere(fields, w, binder);
    const { rows } = small
      ? await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} ${where}`, binder.values)
      : await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM (SELECT 1 FROM ${table} ${where} LIMIT $1) s`, [
          cap + 1,
          ...binder.values,
        ]);
    return Math.min(Number(singleRow(rows, 'The row count').n), cap + 1);
  }

  /** Refuses (400) a `$regex` PostgreSQL cannot compile. */
  checkRegexes(patterns: string[]): Promise<void> {
    return assertRegexes(this.pool, patterns);
  }

  async count(tableId: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${dataTable(tableId)}`);
    return singleRow(rows, 'The row count').n;
  }

  async getByIds(tableId: number, fields: FieldSchema[], ids: string[]): Promise<TableRow[]> {
    const { rows } = await this.pool.query<{ r: TableRow }>(
      `SELECT row_to_json(${ROW}) AS r FROM (SELECT ${projection(fields, 'json')} FROM ${dataTable(tableId)} WHERE id = ANY($1) ORDER BY created_at, id) ${ROW}`,
      [ids],
    );
    return rows.map((p) => p.r);
  }

  /** A COPY FROM STDIN sink on `client` (which the caller holds in a transaction) taking COPY text lines. */
  copyIn(client: PoolClient, tableId: number, fields: FieldSchema[]): Writable {
    return client.query(copyFrom(`COPY ${dataTable(tableId)} (${copyColumns(fields)}) FROM STDIN`));
  }

  /**
   * A staging table for this transaction (dropped at its end) with the table's columns, no
   * constraint, and where each row came from (file and line): COPY into it, then find duplicates
   * or merge. Rows are staged as file 0's until `stagingFile` names the next.
   */
  async createStaging(client: PoolClient, tableId: number): Promise<void> {
    await client.query(
      `CREATE TEMP TABLE ${STAGING} (LIKE ${dataTable(tableId)} INCLUDING DEFAULTS) ON COMMIT DROP;
       ALTER TABLE ${STAGING} ADD COLUMN ${LINE} bigint NOT NULL, ADD COLUMN ${FILE} integer NOT NULL DEFAULT 0`,
    );
  }

  /** The rows COPYed into the staging table from now on come from file `index` of the import. */
  async stagingFile(client: PoolClient, index: number): Promise<void> {
    if (!Number.isSafeInteger(index) || index < 0) throw new Error(`stagingFile: ${index} is not a file index`);
    await client.query(`ALTER TABLE ${STAGING} ALTER COLUMN ${FILE} SET DEFAULT ${index}`);
  }

  /** COPY into the staging table: the import's COPY text with the file line as a last column. */
  copyInStaging(client: PoolClient, fields: FieldSchema[]): Writable {
    return client.query(copyFrom(`COPY ${STAGING} (${copyColumns(fields)}, ${LINE}) FROM STDIN`));
  }

  /**
   * Every staged row whose id appears earlier in the import (the same file or an earlier one) or,
   * with `againstTable`, is already in the table, in file order: the first `limit` of them, each
   * with where its id first appears, and how many there are.
   */
  async stagingDuplicates(client: PoolClient, tableId: number, againstTable: boolean, limit: number): Promise<StagedDuplicates> {
    const { rows } = await client.query<{
      id: string;
      file: number;
      line: string;
      first_file: number;
      first_line: string;
      existing: boolean;
      total: string;
    }>(
      `WITH s AS (
         SELECT id, ${FILE} AS file, ${LINE} AS line,
                first_value(${FILE}) OVER w AS first_file, first_value(${LINE}) OVER w AS first_line,
                row_number() OVER w AS n,
                ($1 AND EXISTS (SELECT 1 FROM ${dataTable(tableId)} t WHERE t.id = st.id)) AS existing
           FROM ${STAGING} st
         WINDOW w AS (PARTITION BY id ORDER BY ${STAGED_ORDER})
       ), d AS (SELECT * FROM s WHERE n > 1 OR existing)
       SELECT id, file, line, first_file, first_line, existing, count(*) OVER () AS total FROM d ORDER BY file, line, id LIMIT $2`,
      [againstTable, limit],
    );
    return {
      total: Number(rows[0]?.total ?? 0),
      rows: rows.map((r) => ({
        id: r.id,
        file: r.file,
        line: Number(r.line),
        first_file: r.first_file,
        first_line: Number(r.first_line),
        existing: r.existing,
      })),
    };
  }

  /** The first `limit` staged rows in the import's order, as the records API would show them once stored (a dry run's preview). */
  async stagedPreview(client: PoolClient, fields: FieldSchema[], limit: number): Promise<TableRow[]> {
    const { rows } = await client.query<{ r: TableRow }>(
      `SELECT row_to_json(${ROW}) AS r FROM (SELECT ${projection(fields, 'json')} FROM ${STAGING} ORDER BY ${STAGED_ORDER} LIMIT $1) ${ROW}`,
      [limit],
    );
    return rows.map((p) => p.r);
  }

  /**
   * The export bytes straight from PostgreSQL. The connection is held until the stream ends or
   * fails, then returned (or destroyed, after an error, so a half-read COPY never goes back to the pool).
   * `rows` is the count PostgreSQL's COPY reports when it completes (header excluded), so nothing
   * has to count records in the bytes.
   */
  async copyOut(
    tableId: number,
    fields: FieldSchema[],
    fileType: 'csv' | 'json',
    selection: ExportSelection,
    opts: CopyOutOptions = {},
  ): Promise<CopyOut> {
    let w = selection;
    const { csv, limit, chunkBytes } = opts;
    const client = await this.pool.connect();
    let released = false;
    const release = (err?: Error) => {
      if (released) return;
      released = true;
      client.release(err);
    };
    // The export reads in a transaction; a changes export's is REPEATABLE READ and its snapshot is
    // also returned: the next run takes exactly what that snapshot did not see (its watermark).
    const finish = () => {
      client.query('COMMIT').then(
        () => release(),
        (err: Error) => release(err),
      );
    };
    let snapshot: string | undefined;
    try {
      // One transaction, so the planner setting below holds for this export's SELECT only.
      await client.query(opts.snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN READ ONLY');
      await client.query(SORTED_READ);
      if (opts.snapshot) {
        const { rows } = await client.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s');
        const current = singleRow(rows, 'The export snapshot').s;
        const seen = await client.query<{ seen: string }>(watermarkSeenSql(tableId, current));
        snapshot = `${current}|${singleRow(seen.rows, 'The rows seen').seen}`;
        if (w.changes) w = { ...w, changes: { ...w.changes, ref: snapshotXmax(current) } };
      }
      // COPY cannot take bind parameters: a `where`'s values go into session settings first.
      const { settings } = exportSelect(tableId, fields, fileType, w);
      const set = settingsSql(settings.length);
      if (set) await client.query(set, settings);
      const stream = client.query(
        copyToStream(exportCopySql(tableId, fields, fileType, w, csv, undefined, limit), chunkBytes === undefined ? {} : { chunkBytes }),
      );
      const rows = copyRowCount(stream);
      stream.once('end', finish);
      stream.once('error', (err) => release(err));
      // Ended: `finish` returns the connection (after its COMMIT, for a changes export).
      stream.once('close', () => {
        if (!stream.readableEnded) release(new Error('export stream closed early'));
      });
      if (fileType !== 'csv' || !w.csv_customize_headers?.length || csv?.header === false)
        return Object.assign(stream, { copied: rows, snapshot });
      // The caller's header names, written by a CSV writer rather than as SQL identifiers (cut at 63 bytes).
      const out = new PassThrough();
      const given = csv?.escapeFormulas ? w.csv_customize_headers.map((h) => escapeFormula(h)) : w.csv_customize_headers;
      const names = w.changes ? [...given, DELETED_COLUMN] : given;
      out.write(stringify([names], { delimiter: csv?.delimiter ?? ',' }));
      return Object.assign(
        pipeline(stream, out, () => undefined),
        { copied: rows, snapshot },
      );
    } catch (err) {
      release(err as Error);
      throw err;
    }
  }
}

export interface CopyOutOptions {
  /** PostgreSQL's CSV options (csv exports). */
  csv?: CsvOptions;
  /** Bounds the SELECT (an export's cap + 1). */
  limit?: number;
  /** Bytes per buffer pushed downstream (default COPY_CHUNK_BYTES; see ExportPlan.source). */
  chunkBytes?: number;
  /** Read in a REPEATABLE READ transaction and return its watermark (a changes run's next one; see parseWatermark). */
  snapshot?: boolean;
}

/**
 * An export reads its rows in order (`created_at, id` by default) through the `(created_at, id)`
 * index, row by row, unless told otherwise. With its cache assumptions the planner costs that scan
 * as cheap even when the heap is not in that order, and then each row is a fetch from another
 * page: 1M rows took PostgreSQL 4.9-5.0 s of CPU where a sequential scan and a sort took 2.6-2.8 s.
 * On a heap already in `created_at` order (rows as they arrive) both took 2.3 s, and a narrow
 * window still reads through the index, as a bitmap scan then a sort (docs/benchmarks.md).
 */
const SORTED_READ = 'SET LOCAL enable_indexscan = off';

/** An export's bytes; `copied` resolves, once the COPY has completed, to the number of rows PostgreSQL wrote. */
export type CopyOut = Readable & { copied: Promise<number>; snapshot?: string | undefined };

/**
 * The row count of a COPY TO. pg-copy-streams sets `rowCount` from the CommandComplete message,
 * which can arrive after the stream's end (CopyDone ends it): the count is final when pg hands the
 * query its ReadyForQuery (the Submittable hook pg calls on the active query).
 */
function copyRowCount(stream: CopyToStreamQuery): Promise<number> {
  const hooks = stream as unknown as { handleReadyForQuery: (...args: unknown[]) => void };
  const ready = hooks.handleReadyForQuery.bind(stream);
  const rows = new Promise<number>((resolve, reject) => {
    hooks.handleReadyForQuery = (...args: unknown[]) => {
      ready(...args);
      resolve(stream.rowCount);
    };
    stream.once('error', reject);
    stream.once('close', () => {
      if (!stream.readableEnded) reject(new Error('export stream closed early'));
    });
  });
  rows.catch(() => undefined);
  return rows;
}
