import type { RowsRepository } from '../db/repositories/rows.repository.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { InvalidParameterError } from '../errors.js';
import { encodeJsonRow } from '../formats/index.js';
import type { BulkInsertResponse, Page, TableRow } from '../types/api.js';
import type { TableRecord } from '../db/repositories/tables.repository.js';
import { pageMeta, type PageQuery } from './paging.js';
import { createRowIdGenerator } from './row-id.js';

export const MAX_ROWS_PER_INSERT = 1000;

export class RecordsService {
  private readonly newId = createRowIdGenerator();

  constructor(
    private readonly pool: Pool,
    private readonly rows: RowsRepository,
  ) {}

  /**
   * Inserts one row (returns it) or an array of up to 1,000 (returns MinApp's bulk reply). Rows
   * go through the same validation and COPY path as imports, so the API and files agree on what
   * a valid row is.
   */
  async insert(table: TableRecord, userId: number, body: unknown): Promise<TableRow | BulkInsertResponse> {
    const many = Array.isArray(body);
    const input: unknown[] = many ? body : [body];
    if (input.length === 0) throw new InvalidParameterError('body', 'Send a row object or a non-empty array of rows.');
    if (input.length > MAX_ROWS_PER_INSERT)
      throw new InvalidParameterError('body', `At most ${MAX_ROWS_PER_INSERT} rows can be inserted in one call; got ${input.length}.`);

    const ctx = {
      fields: table.schema.fields,
      defaults: { createdAt: Math.floor(Date.now() / 1000), createdBy: String(userId), newId: this.newId },
    };
    const lines: string[] = [];
    const created: Array<{ id: string; created_at: number }> = [];
    input.forEach((row, i) => {
      const r = encodeJsonRow(row, ctx);
      if (!r.ok) {
        const e = r.errors[0]!;
        const param = (many ? `[${i}]` : '') + (e.field ? (many ? `.${e.field}` : e.field) : '') || 'body';
        throw new InvalidParameterError(param, many ? `Row ${i}: ${e.message}` : e.message);
      }
      lines.push(r.line);
      created.push({ id: r.id, created_at: r.createdAt });
    });

    try {
      await withTransaction(this.pool, async (client) => {
        const sink = this.rows.copyIn(client, table.id, table.schema.fields);
        await new Promise<void>((resolve, reject) => {
          sink.once('finish', resolve);
          sink.once('error', reject);
          sink.end(lines.join(''));
        });
      });
    } catch (err) {
      const pgErr = err as { code?: string; detail?: string };
      if (pgErr.code === '23505') {
        const id = /\(id\)=\((.*)\)/.exec(pgErr.detail ?? '')?.[1];
        throw new InvalidParameterError('id', `A row with id "${id ?? '?'}" already exists in this table.`);
      }
      throw err;
    }

    if (!many) return (await this.rows.getByIds(table.id, table.schema.fields, [created[0]!.id]))[0]!;
    return { succeed: created.length, total_count: created.length, operation_result: created.map((c) => ({ success: c })) };
  }

  async list(table: TableRecord, q: PageQuery, path: string): Promise<Page<TableRow>> {
    const { total, rows } = await this.rows.list(table.id, table.schema.fields, q.limit, q.offset);
    return { meta: pageMeta(path, q, total), objects: rows };
  }
}
