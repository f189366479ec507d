import type { RowsRepository } from '../../db/repositories/rows.repository.js';
import { TableLockedError, TableNameTakenError, type TableRecord, type TablesRepository } from '../../db/repositories/tables.repository.js';
import { AppError, NotFoundError, TableBusyError } from '../../errors.js';
import type { CreateTableRequest, Page, Table } from '../../types/api.js';
import { pageMeta, type PageQuery } from '../paging.js';

export function toTable(t: TableRecord, rowCount: number): Table {
  return {
    id: t.id,
    name: t.name,
    schema: t.schema,
    row_count: rowCount,
    created_at: Math.floor(t.created_at.getTime() / 1000),
    updated_at: Math.floor(t.updated_at.getTime() / 1000),
  };
}

export class TablesService {
  constructor(
    private readonly tables: TablesRepository,
    private readonly rows: RowsRepository,
    /** How long a deletion waits for a running import or export before `409 table_busy`. */
    private readonly lockTimeoutMs = 2000,
  ) {}

  async create(ownerId: number, req: CreateTableRequest): Promise<Table> {
    try {
      return toTable(await this.tables.create(ownerId, req.name, req.schema), 0);
    } catch (err) {
      if (err instanceof TableNameTakenError) throw new AppError('table_exists', 409, `You already have a table named "${req.name}".`);
      throw err;
    }
  }

  /** The caller's table, or 404 for a missing table and for another user's alike. */
  async require(ownerId: number, tableId: string | number): Promise<TableRecord> {
    const id = Number(tableId);
    const table = Number.isSafeInteger(id) && id > 0 ? await this.tables.get(id, ownerId) : null;
    if (!table) throw new NotFoundError(`Table ${tableId} was not found.`);
    return table;
  }

  /** The caller's table named `name` (as SQL statements name them), or null. */
  findByName(ownerId: number, name: string): Promise<TableRecord | null> {
    return this.tables.getByName(ownerId, name);
  }

  /** The caller's table named `name` (as SQL statements name them), or 404. */
  async requireByName(ownerId: number, name: string): Promise<TableRecord> {
    const table = await this.tables.getByName(ownerId, name);
    if (!table) throw new NotFoundError(`Table "${name}" was not found.`);
    return table;
  }

  async get(ownerId: number, tableId: string): Promise<Table> {
    const t = await this.require(ownerId, tableId);
    return toTable(t, await this.rows.count(t.id));
  }

  async list(ownerId: number, q: PageQuery, path: string): Promise<Page<Table>> {
    const { total, tables } = await this.tables.list(ownerId, q.limit, q.offset);
    const objects = await Promise.all(tables.map(async (t) => toTable(t, await this.rows.count(t.id))));
    return { meta: pageMeta(path, q, total), objects };
  }

  async delete(ownerId: number, tableId: string): Promise<void> {
    const t = await this.require(ownerId, tableId);
    try {
      await this.tables.delete(t.id, ownerId, this.lockTimeoutMs);
    } catch (err) {
      if (err instanceof TableLockedError) throw new TableBusyError(t.id);
      throw err;
    }
  }
}
