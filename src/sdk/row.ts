import type { RecordUpdate, TableRow } from '../types/api.js';
import type { Transport } from './transport.js';

/**
 * One row of a table, by id (`tp.table(42).row('6f1c...')`). Creating it sends nothing; a row that
 * does not exist rejects with `NotFoundError`.
 */
export class RowRef {
  /** @internal */
  constructor(
    private readonly transport: Transport,
    /** The table's id. */
    readonly tableId: number,
    /** The row's id. */
    readonly id: string,
  ) {}

  private path(): string {
    return `/table/${this.tableId}/record/${encodeURIComponent(this.id)}/`;
  }

  /** The row as stored. */
  get(): Promise<TableRow> {
    return this.transport.json<TableRow>('GET', this.path());
  }

  /**
   * Changes some fields in one atomic update and resolves with the row as stored (its `updated_at`
   * set to now). Beside plain values, MinApp's operators: `{ $incr_by: n }` on integer and number
   * fields, `{ $append: [...] }`, `{ $append_unique: [...] }` and `{ $remove: [...] }` on arrays.
   * Concurrent updates never lose each other's increments. A value the field cannot hold rejects
   * with `InvalidParameterError` naming the field.
   *
   * @example
   * await tp.table(42).row(id).update({ title: 'paid', qty: { $incr_by: 1 }, tags: { $append_unique: ['vip'] } });
   */
  update(changes: RecordUpdate): Promise<TableRow> {
    return this.transport.json<TableRow>('PUT', this.path(), { json: changes });
  }

  /** Deletes the row. */
  async delete(): Promise<void> {
    await this.transport.json<unknown>('DELETE', this.path());
  }
}
