import type { FieldSchema, TableSchema } from '../../types/api.js';
import { withTransaction, type Pool, type PoolClient } from '../pool.js';
import { singleRow } from '../single-row.js';
import { COLUMN_TYPES, createTableSql, dataTable, quoteIdent } from '../table-sql.js';
import { storableJson } from '../../formats/storable-text.js';

export interface TableRecord {
  id: number;
  owner_id: number;
  name: string;
  schema: TableSchema;
  created_at: Date;
  updated_at: Date;
}

const COLS = 'id, owner_id, name, schema, created_at, updated_at';

export class TableNameTakenError extends Error {}
export class TableLockedError extends Error {
  constructor(readonly tableId: number) {
    super(`table ${tableId} is locked`);
  }
}

export class TablesRepository {
  constructor(private readonly pool: Pool) {}

  /** Creates the metadata row and the real table in one transaction: both or neither. */
  async create(ownerId: number, name: string, schema: TableSchema): Promise<TableRecord> {
    try {
      return await withTransaction(this.pool, async (client) => {
        const { rows } = await client.query<TableRecord>(
          `INSERT INTO tableport.tables (owner_id, name, schema) VALUES ($1, $2, $3) RETURNING ${COLS}`,
          [ownerId, name, storableJson(schema)],
        );
        const table = singleRow(rows, 'INSERT INTO tableport.tables');
        await client.query(createTableSql(table.id, schema.fields));
        return table;
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new TableNameTakenError(name);
      throw err;
    }
  }

  async list(ownerId: number, limit: number, offset: number): Promise<{ total: number; tables: TableRecord[] }> {
    const [count, page] = await Promise.all([
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tableport.tables WHERE owner_id = $1', [ownerId]),
      this.pool.query<TableRecord>(`SELECT ${COLS} FROM tableport.tables WHERE owner_id = $1 ORDER BY id LIMIT $2 OFFSET $3`, [
        ownerId,
        limit,
        offset,
      ]),
    ]);
    return { total: singleRow(count.rows, 'The table count').n, tables: page.rows };
  }

  /** The table if it exists and belongs to `ownerId`; pass `null` for any owner (workers). */
  async get(id: number, ownerId: number | null): Promise<TableRecord | null> {
    const { rows } = await this.pool.query<TableRecord>(
      `SELECT ${COLS} FROM tableport.tables WHERE id = $1 AND ($2::bigint IS NULL OR owner_id = $2)`,
      [id, ownerId],
    );
    return rows[0] ?? null;
  }

  /**
   * The owner's table named `name` (SQL statements name tables): the exact name, else the one
   * table whose name differs only in case (unquoted SQL names are case-insensitive), else null.
   */
  async getByName(ownerId: number, name: string): Promise<TableRecord | null> {
    const { rows } = await this.pool.query<TableRecord>(
      `SELECT ${COLS} FROM tableport.tables WHERE owner_id = $1 AND lower(name) = lower($2) ORDER BY (name = $2) DESC, id LIMIT 2`,
      [ownerId, name],
    );
    const [first, second] = rows;
    if (!first) return null;
    if (first.name === name || !second) return first;
    return null;
  }

  /**
   * Gives a table the wider schema its own inferring import found in the whole file (see
   * imports.service.ts), inside that import's transaction: new columns added, types widened. Only
   * while the table holds no row (taken under an exclusive lock, so none can arrive meanwhile);
   * returns false, changing nothing, otherwise.
   */
  async widenEmpty(client: PoolClient, tableId: number, from: readonly FieldSchema[], to: readonly FieldSchema[]): Promise<boolean> {
    const t = dataTable(tableId);
    await client.query(`LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE`);
    const { rows } = await client.query<{ found: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${t}) AS found`);
    if (rows[0]?.found !== false) return false;
    const before = new Map(from.map((f) => [f.name, f.type]));
    const changes = to.flatMap((f) => {
      const column = quoteIdent(f.name);
      const type = COLUMN_TYPES[f.type];
      if (!before.has(f.name)) return [`ADD COLUMN ${column} ${type}`];
      return before.get(f.name) === f.type ? [] : [`ALTER COLUMN ${column} TYPE ${type} USING ${column}::${type}`];
    });
    if (changes.length) await client.query(`ALTER TABLE ${t} ${changes.join(', ')}`);
    await client.query('UPDATE tableport.tables SET schema = $2, updated_at = now() WHERE id = $1', [
      tableId,
      storableJson({ fields: to }),
    ]);
    return true;
  }

  /**
   * Removes the table. A running import or export holds a lock on it; DROP TABLE would wait for
   * it while every reader queued behind the DROP, so the wait is bounded by `lockTimeoutMs` and
   * then refused with `TableLockedError`.
   */
  async delete(id: number, ownerId: number, lockTimeoutMs = 2000): Promise<boolean> {
    try {
      return await withTransaction(this.pool, async (client) => {
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
        const { rowCount } = await client.query('DELETE FROM tableport.tables WHERE id = $1 AND owner_id = $2', [id, ownerId]);
        if (!rowCount) return false;
        await client.query(`DROP TABLE IF EXISTS ${dataTable(id)}`);
        return true;
      });
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') throw new TableLockedError(id);
      throw err;
    }
  }
}
