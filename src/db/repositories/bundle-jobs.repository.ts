/**
 * What bundle jobs keep beside the common job row: the per-table outcome of an import
 * (`bundle_tables`), and the caller's latest import for `GET /data/import/status/`.
 */
import type { Pool, PoolClient } from '../pool.js';
import type { JobRecord } from './jobs.repository.js';
import { storableJson } from '../../formats/storable-text.js';

type Queryable = Pick<Pool, 'query'> | PoolClient;

export class BundleJobsRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Records each table's outcome. On success it goes through the import's own transaction (it
   * commits with the rows); on failure through the pool, so it outlives the rollback.
   */
  async setTables(id: string, tables: Record<string, string>, db: Queryable = this.pool): Promise<void> {
    await db.query('UPDATE tableport.jobs SET bundle_tables = $2 WHERE id = $1', [id, storableJson(tables)]);
  }

  /** The user's latest bundle import, with its per-table outcome (`null` until it ran). */
  async latestImport(userId: number): Promise<(JobRecord & { bundle_tables: Record<string, string> | null }) | null> {
    const { rows } = await this.pool.query<JobRecord & { bundle_tables: Record<string, string> | null }>(
      `SELECT * FROM tableport.jobs WHERE user_id = $1 AND type = 'bundle_import' ORDER BY created_at DESC, id DESC LIMIT 1`,
      [userId],
    );
    return rows[0] ?? null;
  }
}
