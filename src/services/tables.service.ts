import { z } from 'zod';
import type { RowsRepository } from '../db/repositories/rows.repository.js';
import { TableLockedError, TableNameTakenError, type TableRecord, type TablesRepository } from '../db/repositories/tables.repository.js';
import { AppError, InvalidParameterError, NotFoundError, TableBusyError } from '../errors.js';
import { BUILTIN_FIELDS, FIELD_TYPES, type CreateTableRequest, type Page, type Table } from '../types/api.js';
import { pageMeta, type PageQuery } from './paging.js';
import { parseParams } from './validate.js';

const NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const RESERVED = new Set<string>(BUILTIN_FIELDS);
/** PostgreSQL's system columns exist on every table: a field of that name cannot be created. */
const SYSTEM_COLUMNS = new Set(['tableoid', 'xmin', 'cmin', 'xmax', 'cmax', 'ctid', 'oid']);

export const CreateTableSchema = z.object({
  name: z.string().regex(NAME_RE, 'a letter, then up to 63 letters, digits or "_"'),
  schema: z.object({
    fields: z
      .array(
        z.object({
          name: z
            .string()
            .regex(FIELD_RE, 'a letter or "_", then up to 62 letters, digits or "_"')
            .refine((n) => !RESERVED.has(n.toLowerCase()), 'is a built-in field name')
            .refine(
              (n) => !SYSTEM_COLUMNS.has(n.toLowerCase()),
              'is the name of a PostgreSQL system column (tableoid, xmin, cmin, xmax, cmax, ctid, oid)',
            ),
          type: z.enum(FIELD_TYPES),
          description: z.string().max(1000).optional(),
        }),
      )
      .min(1, 'a table needs at least one field')
      .max(500, 'at most 500 fields'),
  }),
});

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

  async create(ownerId: number, body: unknown): Promise<Table> {
    const req = parseTableDefinition(body);
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

/**
 * A table's name and schema checked by the rules of `POST /table/` (names, field names and types,
 * no field twice). Bundles check each of their tables with it; `invalid_parameter` names the path.
 */
export function parseTableDefinition(body: unknown): CreateTableRequest {
  const req: CreateTableRequest = parseParams(CreateTableSchema, body);
  const seen = new Set<string>();
  req.schema.fields.forEach((f, i) => {
    const k = f.name.toLowerCase();
    if (seen.has(k)) throw new InvalidParameterError(`schema.fields[${i}].name`, `The field name "${f.name}" is used twice.`);
    seen.add(k);
  });
  return req;
}

/** Whether `name` may name a table (the rule `POST /table/` checks). */
export function isTableName(name: string): boolean {
  return NAME_RE.test(name);
}
