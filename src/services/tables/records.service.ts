import { systemClock, unixSeconds, type Clock } from '../../clock.js';
import type { RecordChanges, RecordsQuery, RowsInsert } from '../../contracts/records.js';
import type { RecordsRepository } from '../../db/repositories/records.repository.js';
import type { RowsRepository } from '../../db/repositories/rows.repository.js';
import type { TableRecord } from '../../db/repositories/tables.repository.js';
import { withTransaction, type Pool } from '../../db/pool.js';
import { compileOrderBy, compileWhere, parameterBinder } from '../../db/query/index.js';
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import { encodeJsonRow } from '../../formats/index.js';
import { storableText } from '../../formats/storable-text.js';
import { DEFAULT_VALUE_LIMITS, type ValueLimits } from '../../formats/values.js';
import type { BulkInsertResponse, RecordPageMeta, TableRow } from '../../types/api.js';
import { compileUpdate } from './record-update.js';
import { createRowIdGenerator } from './row-id.js';

/** An id holding U+0000 or a lone surrogate cannot be stored, so no row has it (PostgreSQL would refuse the query). */
function storable(id: string): boolean {
  return storableText(id) === id;
}

/** MinApp's default order: newest first, ties by id (newest id first). */
export const DEFAULT_RECORD_ORDER = ['-created_at'];

/** A records page rendered as JSON text: the rows' JSON comes from PostgreSQL and is not parsed again. */
export interface RenderedPage {
  meta: RecordPageMeta;
  body: string;
}

export class RecordsService {
  private readonly newId = createRowIdGenerator();

  constructor(
    private readonly pool: Pool,
    private readonly rows: RowsRepository,
    private readonly records: RecordsRepository,
    /** The JSON of a page's rows is cut short past this many bytes (`RECORDS_PAGE_MAX_BYTES`). */
    private readonly pageMaxBytes: number,
    private readonly clock: Clock = systemClock,
    /** MAX_CELL_BYTES and MAX_JSON_DEPTH for the values rows and queries carry. */
    private readonly limits: ValueLimits = DEFAULT_VALUE_LIMITS,
  ) {}

  /**
   * Inserts one row (returns it) or an array of up to 1,000 (returns MinApp's bulk reply). Rows
   * go through the same validation and COPY path as imports, so the API and files agree on what
   * a valid row is.
   */
  async insert(table: TableRecord, userId: number, { many, rows: input }: RowsInsert): Promise<TableRow | BulkInsertResponse> {
    const ctx = {
      fields: table.schema.fields,
      defaults: { createdAt: unixSeconds(this.clock), createdBy: String(userId), newId: this.newId },
      limits: this.limits,
    };
    const lines: string[] = [];
    const created: Array<{ id: string; created_at: number }> = [];
    input.forEach((row, i) => {
      const r = encodeJsonRow(row, ctx);
      if (!r.ok) {
        const [e] = r.errors;
        if (!e) throw new Error('A refused row came without a problem.');
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

    if (!many) {
      const [row] = await this.rows.getByIds(
        table.id,
        table.schema.fields,
        created.map((c) => c.id),
      );
      if (!row) throw new Error('The inserted row could not be read back.');
      return row;
    }
    return { succeed: created.length, total_count: created.length, operation_result: created.map((c) => ({ success: c })) };
  }

  /**
   * A page of rows selected by MinApp's `where`, ordered by `order_by` (default newest first).
   * The page stops early when its rows' JSON passes the byte budget: `meta.limit` is then the
   * number of rows sent, `meta.truncated` is true, and `next` continues right after them.
   */
  async list(table: TableRecord, query: RecordsQuery, path: string): Promise<RenderedPage> {
    const fields = table.schema.fields;
    const { page } = query;
    const binder = parameterBinder();
    const compiled =
      query.where === undefined ? { sql: 'TRUE', regexes: [] } : compileWhere(query.where.value, fields, binder, 'where', this.limits);
    const orderSql = compileOrderBy(query.orderBy?.keys, fields, DEFAULT_RECORD_ORDER);
    await this.records.checkRegexes(compiled.regexes);

    const { total, pageRows, rows } = await this.records.page(table.id, fields, {
      whereSql: compiled.sql,
      whereValues: binder.values,
      orderSql,
      limit: page.limit,
      offset: page.offset,
      maxBytes: this.pageMaxBytes,
    });
    const truncated = rows.length < pageRows;
    const extra = new URLSearchParams();
    if (query.where) extra.set('where', query.where.text);
    if (query.orderBy) extra.set('order_by', query.orderBy.text);
    const link = (offset: number) => {
      const q = new URLSearchParams(extra);
      q.set('limit', String(page.limit));
      q.set('offset', String(offset));
      return `${path}?${q.toString()}`;
    };
    const after = page.offset + rows.length;
    const meta: RecordPageMeta = {
      limit: truncated ? rows.length : page.limit,
      offset: page.offset,
      total_count: total,
      next: after < total && rows.length > 0 ? link(after) : null,
      previous: page.offset > 0 ? link(Math.max(0, page.offset - page.limit)) : null,
    };
    if (truncated) meta.truncated = true;
    return { meta, body: `{"meta":${JSON.stringify(meta)},"objects":[${rows.join(',')}]}` };
  }

  async get(table: TableRecord, recordId: string): Promise<TableRow> {
    const row = storable(recordId) ? await this.records.get(table.id, table.schema.fields, recordId) : null;
    if (!row) throw new NotFoundError(`Record ${recordId} was not found in table ${table.id}.`);
    return row;
  }

  /**
   * Applies plain values and MinApp's atomic operators (`$incr_by`, `$append`, `$append_unique`,
   * `$remove`) in one UPDATE, and sets `updated_at`. Returns the row as stored.
   */
  async update(table: TableRecord, recordId: string, body: RecordChanges): Promise<TableRow> {
    const update = compileUpdate(table.schema.fields, body, this.limits);
    if (!storable(recordId)) throw new NotFoundError(`Record ${recordId} was not found in table ${table.id}.`);
    let row: TableRow | null;
    try {
      row = await this.records.update(table.id, table.schema.fields, recordId, unixSeconds(this.clock), update);
    } catch (err) {
      // numeric_value_out_of_range: an $incr_by past what the column holds.
      if ((err as { code?: string }).code === '22003')
        throw new InvalidParameterError('body', "The update takes a value out of its field's range.");
      throw err;
    }
    if (row) return row;
    if (update.guards.length && (await this.records.get(table.id, table.schema.fields, recordId))) {
      throw new InvalidParameterError(
        Object.keys(body as object)[0] ?? 'body',
        'The $incr_by takes an integer field past ±9007199254740991.',
      );
    }
    throw new NotFoundError(`Record ${recordId} was not found in table ${table.id}.`);
  }

  async delete(table: TableRecord, recordId: string): Promise<void> {
    if (!storable(recordId) || !(await this.records.delete(table.id, recordId)))
      throw new NotFoundError(`Record ${recordId} was not found in table ${table.id}.`);
  }
}
