/**
 * The undo information of imports (written by upsert.repository.ts in each import's transaction)
 * read back, checked and applied by an `undo` job, and pruned past UNDO_RETENTION_SECONDS.
 */
import type { FieldSchema } from '../../types/api.js';
import type { Pool, PoolClient } from '../pool.js';
import { copyColumns, dataTable } from '../table-sql.js';

type Queryable = Pick<Pool, 'query'> | PoolClient;

/** What an import kept to be undone. */
export interface ImportUndoHeader {
  job_id: string;
  table_id: number;
  /** The table's fields when the import ran. */
  fields: FieldSchema[];
  created_at: Date;
}

/** Rows an import touched that are not as it left them (the first few, and how many). */
export interface ChangedRows {
  total: number;
  rows: Array<{ id: string; gone: boolean }>;
}

const UNDO = 'tableport.import_undo';
const UNDO_INSERTED = 'tableport.import_undo_inserted';
const UNDO_UPDATED = 'tableport.import_undo_updated';

export class ImportUndoRepository {
  constructor(private readonly pool: Pool) {}

  async header(jobId: string, db: Queryable = this.pool): Promise<ImportUndoHeader | null> {
    const { rows } = await db.query<ImportUndoHeader>(
      `SELECT job_id, table_id::int AS table_id, fields, created_at FROM ${UNDO} WHERE job_id = $1`,
      [jobId],
    );
    return rows[0] ?? null;
  }

  /**
   * Rows the import touched that changed since: deleted, or written by anyone after it (their xmin
   * is no longer the one the import's header has; see the migration 1796100230000_import-undo).
   */
  async changedSince(jobId: string, tableId: number, limit: number, db: Queryable = this.pool): Promise<ChangedRows> {
    const { rows } = await db.query<{ id: string; gone: boolean; total: string }>(
      `WITH touched AS (
         SELECT i.id FROM ${UNDO_INSERTED} x, unnest(x.row_ids) AS i(id) WHERE x.job_id = $1
         UNION ALL
         SELECT row_id FROM ${UNDO_UPDATED} WHERE job_id = $1
       )
       SELECT tt.id, (r.id IS NULL) AS gone, count(*) OVER () AS total
         FROM touched tt JOIN ${UNDO} h ON h.job_id = $1
         LEFT JOIN ${dataTable(tableId)} r ON r.id = tt.id
        WHERE r.id IS NULL OR NOT (r.xmin = h.xmin)
        ORDER BY tt.id LIMIT $2`,
      [jobId, limit],
    );
    return { total: Number(rows[0]?.total ?? 0), rows: rows.map((r) => ({ id: r.id, gone: r.gone })) };
  }

  /**
   * On the undo job's transaction (the table locked against writers first): deletes the rows the
   * import inserted, puts back the rows it updated as they were, and drops the undo information, so
   * an import is undone once. Returns what it did.
   */
  async apply(client: PoolClient, jobId: string, tableId: number, fields: FieldSchema[]): Promise<{ deleted: number; restored: number }> {
    const t = dataTable(tableId);
    const deleted = await client.query(
      `DELETE FROM ${t} r USING ${UNDO_INSERTED} x, unnest(x.row_ids) AS i(id) WHERE x.job_id = $1 AND r.id = i.id`,
      [jobId],
    );
    const sets = copyColumns(fields)
      .split(', ')
      .filter((c) => c !== 'id')
      .map((c) => `${c} = p.${c}`)
      .join(', ');
    const restored = await client.query(
      `UPDATE ${t} r SET ${sets}
         FROM ${UNDO_UPDATED} u, jsonb_populate_record(NULL::${t}, u.previous) p
        WHERE u.job_id = $1 AND r.id = u.row_id`,
      [jobId],
    );
    await client.query(`DELETE FROM ${UNDO} WHERE job_id = $1`, [jobId]);
    return { deleted: deleted.rowCount ?? 0, restored: restored.rowCount ?? 0 };
  }

  /** Takes the table against other writers for the rest of `client`'s transaction (readers go on). */
  async lockTable(client: PoolClient, tableId: number): Promise<void> {
    await client.query(`LOCK TABLE ${dataTable(tableId)} IN SHARE ROW EXCLUSIVE MODE`);
  }

  /** Drops the undo information of imports that ran before `before` (UNDO_RETENTION_SECONDS ago). */
  async prune(before: Date): Promise<number> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${UNDO} WHERE created_at < $1`, [before]);
    return rowCount ?? 0;
  }
}
