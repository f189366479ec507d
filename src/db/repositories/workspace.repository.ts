/**
 * A user's tables changed together, inside a caller's transaction: what a bundle import does.
 * Every statement runs on the given client, so the whole import commits or rolls back as one.
 */
import type { TableSchema } from '../../types/api.js';
import type { Pool, PoolClient } from '../pool.js';
import { createTableSql, dataTable } from '../table-sql.js';
import type { TableRecord } from './tables.repository.js';
import { storableJson } from '../../formats/storable-text.js';

const COLS = 'id, owner_id, name, schema, created_at, updated_at';

export class WorkspaceRepository {
  constructor(private readonly pool: Pool) {}

  /** The owner's tables by name (no lock): what a request checks names against. */
  async list(ownerId: number): Promise<TableRecord[]> {
    const { rows } = await this.pool.query<TableRecord>(`SELECT ${COLS} FROM tableport.tables WHERE owner_id = $1 ORDER BY id`, [ownerId]);
    return rows;
  }

  /**
   * The owner's tables, locked until the transaction ends: a table created, changed or deleted
   * meanwhile through the API waits for the import instead of being lost under it.
   */
  async lockAll(client: PoolClient, ownerId: number): Promise<TableRecord[]> {
    const { rows } = await client.query<TableRecord>(`SELECT ${COLS} FROM tableport.tables WHERE owner_id = $1 ORDER BY id FOR UPDATE`, [
      ownerId,
    ]);
    return rows;
  }

  async create(client: PoolClient, ownerId: number, name: string, schema: TableSchema): Promise<TableRecord> {
    const { rows } = await client.query<TableRecord>(
      `INSERT INTO tableport.tables (owner_id, name, schema) VALUES ($1, $2, $3) RETURNING ${COLS}`,
      [ownerId, name, storableJson(schema)],
    );
    const table = rows[0] as TableRecord;
    await client.query(createTableSql(table.id, schema.fields));
    return table;
  }

  /** Empties a table and gives it a new schema, keeping its id (links and job history stay valid). */
  async recreate(client: PoolClient, tableId: number, schema: TableSchema): Promise<void> {
    await client.query('UPDATE tableport.tables SET schema = $2, updated_at = now() WHERE id = $1', [tableId, storableJson(schema)]);
    // DROP fires no delete trigger: a changes schedule of the table is told of every row that goes.
    await client.query(
      `INSERT INTO tableport.tombstones (table_id, row_id, deleted_at)
       SELECT $1, id, extract(epoch FROM clock_timestamp())::bigint FROM ${dataTable(tableId)}
        WHERE EXISTS (SELECT 1 FROM tableport.schedules WHERE table_id = $1 AND mode = 'changes')`,
      [tableId],
    );
    await client.query(`DROP TABLE ${dataTable(tableId)}`);
    await client.query(createTableSql(tableId, schema.fields));
  }

  async drop(client: PoolClient, tableId: number): Promise<void> {
    await client.query('DELETE FROM tableport.tables WHERE id = $1', [tableId]);
    await client.query(`DROP TABLE IF EXISTS ${dataTable(tableId)}`);
  }

  async savepoint(client: PoolClient, name: string): Promise<void> {
    await client.query(`SAVEPOINT ${name}`);
  }

  async release(client: PoolClient, name: string): Promise<void> {
    await client.query(`RELEASE SAVEPOINT ${name}`);
  }

  async rollbackTo(client: PoolClient, name: string): Promise<void> {
    await client.query(`ROLLBACK TO SAVEPOINT ${name}`);
  }

  /** Rows in the owner's tables (named), counted up to `cap + 1` each: the synchronous download's check. */
  async countUpTo(tableIds: number[], cap: number): Promise<number> {
    let total = 0;
    for (const id of tableIds) {
      const { rows } = await this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${dataTable(id)} LIMIT $1) s`, [
        cap + 1 - total,
      ]);
      total += rows[0]?.n ?? 0;
      if (total > cap) break;
    }
    return total;
  }
}
