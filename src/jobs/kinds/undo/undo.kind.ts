/**
 * Undoing a succeeded import (`POST /jobs/:id/undo`): the rows it inserted deleted and the rows it
 * updated put back as they were, from the undo information the import wrote in its own
 * transaction (upsert.repository.ts), all or nothing. Refused (409 `undo_not_possible`) when a row
 * the import touched changed since, when its table's fields changed, or when the information is
 * gone (undone already, or pruned after UNDO_RETENTION_SECONDS). The request checks what it can at
 * once; the job checks again with the table locked against writers, then applies.
 */
import { dateOf } from '../../../clock.js';
import { ImportUndoRepository, type ImportUndoHeader } from '../../../db/repositories/import-undo.repository.js';
import type { ImportParams, JobRecord, UndoParams } from '../../../db/repositories/jobs.repository.js';
import type { TableRecord } from '../../../db/repositories/tables.repository.js';
import { NotFoundError, UndoNotPossibleError } from '../../../errors.js';
import type { JobCreatedResponse } from '../../../types/api.js';
import type { JobKind, JobPlan, JobResult, JobRunContext } from '../../job-kind.js';
import { QueueName } from '../../job-names.js';
import type { KindDeps } from '../kind-deps.js';

/** Rows named in a refusal before it only counts them. */
const CHANGED_SHOWN = 5;

export class UndoKind implements JobKind<'undo'> {
  readonly type = 'undo';
  readonly queue = QueueName.Import;
  readonly folder = 'import';
  readonly minutePer = 'table';
  readonly keepsUploadForRetry = false;
  private readonly undo: ImportUndoRepository;

  constructor(private readonly d: KindDeps) {
    this.undo = new ImportUndoRepository(d.pool);
  }

  /** `POST /jobs/:job_id/undo`: checked now (409 with the reason), then queued as a job of its own. */
  request(userId: number, importJobId: string): Promise<JobCreatedResponse> {
    return this.d.lifecycle.create(this, userId, () => this.plan(userId, importJobId));
  }

  /** A failed undo (a row changed while it was queued, since put right) is asked again, checked as a new request. */
  retry(old: JobRecord): Promise<JobPlan> {
    return this.plan(old.user_id, (old.params as UndoParams).import_job_id);
  }

  async run({ job, db }: JobRunContext): Promise<JobResult> {
    const importJobId = (job.params as UndoParams).import_job_id;
    const imported = await this.d.jobs.get(importJobId, null);
    if (!imported) throw new UndoNotPossibleError(importJobId, 'the import job is gone.');
    const table = await this.tableOf(imported);
    // Writers wait until the undo commits: what is checked below still holds when it is applied.
    await this.undo.lockTable(db, table.id);
    const header = await this.check(imported, table, db);
    const done = await this.undo.apply(db, importJobId, table.id, header.fields);
    await this.d.jobs.markUndone(importJobId, job.id, db);
    return { rows: done.deleted + done.restored, result: { undo_of: importJobId, ...done } };
  }

  private async plan(userId: number, importJobId: string): Promise<JobPlan> {
    const imported = await this.d.jobs.get(importJobId, userId);
    if (!imported) throw new NotFoundError(`Job ${importJobId} was not found.`);
    const table = await this.tableOf(imported);
    await this.check(imported, table);
    const pending = await this.d.jobs.pendingUndoOf(importJobId);
    if (pending) throw new UndoNotPossibleError(importJobId, `its undo is already queued as job ${pending}.`, { undo_job_id: pending });
    const params: UndoParams = { import_job_id: importJobId, email: false };
    // An undo is asked for once per import: it takes no minute of the table.
    return { minute: null, row: { table_id: table.id, table_name: table.name, params, file_type: null, file_name: null } };
  }

  private async tableOf(imported: JobRecord): Promise<TableRecord> {
    const id = imported.id;
    if (imported.type !== 'import')
      throw new UndoNotPossibleError(id, `it is ${article(imported.type)} job; only an import can be undone.`);
    if ((imported.params as ImportParams).dry_run) throw new UndoNotPossibleError(id, 'it is a dry run, which wrote nothing.');
    if ((imported.params as ImportParams).sheet_tables)
      throw new UndoNotPossibleError(id, 'it made a new table for each sheet (sheets=all); delete those tables instead.');
    if (imported.status !== 'succeeded')
      throw new UndoNotPossibleError(id, `it is ${imported.status}; only a succeeded import wrote rows (a failed one wrote none).`);
    const table = imported.table_id === null ? null : await this.d.tablesRepo.get(imported.table_id, null);
    if (!table) throw new UndoNotPossibleError(id, `its table "${imported.table_name}" was deleted.`);
    return table;
  }

  /** The import's undo information, when it can still be applied as it is. */
  private async check(imported: JobRecord, table: TableRecord, db?: JobRunContext['db']): Promise<ImportUndoHeader> {
    const id = imported.id;
    const header = await this.undo.header(id, db);
    const retention = this.d.config.undoRetentionSeconds;
    if (!header) {
      if ((imported.result as { undone_by?: string } | null)?.undone_by)
        throw new UndoNotPossibleError(id, `it was undone already, by job ${(imported.result as { undone_by: string }).undone_by}.`);
      throw new UndoNotPossibleError(id, `its undo information is no longer kept (UNDO_RETENTION_SECONDS is ${retention}).`);
    }
    if (header.created_at.getTime() + retention * 1000 <= dateOf(this.d.clock).getTime())
      throw new UndoNotPossibleError(id, `its undo information expired ${retention} seconds after the import (UNDO_RETENTION_SECONDS).`);
    if (JSON.stringify(header.fields) !== JSON.stringify(table.schema.fields))
      throw new UndoNotPossibleError(id, `the fields of table "${table.name}" changed since; the rows it kept have the old fields.`);
    const changed = await this.undo.changedSince(id, table.id, CHANGED_SHOWN, db);
    if (changed.total > 0) {
      const shown = changed.rows.map((r) => `"${r.id}"${r.gone ? ' (deleted)' : ''}`).join(', ');
      const more = changed.total > changed.rows.length ? ` and ${changed.total - changed.rows.length} more` : '';
      throw new UndoNotPossibleError(
        id,
        `${changed.total} ${changed.total === 1 ? 'row it wrote was' : 'rows it wrote were'} changed or deleted since: ${shown}${more}. ` +
          'Undoing it would lose those changes; put the rows back by hand instead.',
        { changed_rows: changed.total, row_ids: changed.rows.map((r) => r.id) },
      );
    }
    return header;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
