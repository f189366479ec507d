/**
 * The export: a table's rows (all, a window of `created_at`, a MinApp `where`) into a file of any
 * format, behind a signed link or at a location (an object store, a folder). Its request is
 * checked against the table and counted against the row cap before the job is born.
 */
import { pipeline, type Transform } from 'node:stream';
import { dateOf } from '../../../clock.js';
import type { ExportRequest } from '../../../contracts/exports.js';
import type { ExportParams, JobRecord } from '../../../db/repositories/jobs.repository.js';
import { exportColumnTypes } from '../../../db/table-sql.js';
import { AppError, InvalidParameterError, TooManyRowsError } from '../../../errors.js';
import { exportExtension, exportFormatOf, planExport } from '../../../formats/index.js';
import type { TaskLocation } from '../../../locations/task-locations.js';
import { exportFileKey } from '../../../storage/index.js';
import type { FieldSchema, JobCreatedResponse } from '../../../types/api.js';
import type { JobKind, JobPlan, JobResult, JobRunContext } from '../../job-kind.js';
import { QueueName } from '../../job-names.js';
import { exportFileName, progressReporter } from '../../job-progress.js';
import { SchedulesRepository } from '../../../db/repositories/schedules.repository.js';
import type { KindDeps } from '../kind-deps.js';
import { validateSelection } from './export-selection.js';

/** A run of a schedule: the job is listed among its runs and, in `changes` mode, reads from its watermark. */
export interface ScheduleOrigin {
  scheduleId: string;
  changes: boolean;
  /** The schedule's watermark now (the run reads the one current when it runs). */
  watermark: string | null;
}

export class ExportKind implements JobKind<'export'> {
  readonly type = 'export';
  readonly queue = QueueName.Export;
  readonly folder = 'export';
  readonly minutePer = 'table';
  readonly keepsUploadForRetry = false;

  private readonly schedules: SchedulesRepository;

  constructor(private readonly d: KindDeps) {
    this.schedules = new SchedulesRepository(d.pool);
  }

  /** `POST .../table/:table_id/export/` (or a schedule's run): a request refused for any reason does not use up the minute. */
  request(userId: number, tableId: string, req: ExportRequest, origin?: ScheduleOrigin): Promise<JobCreatedResponse> {
    return this.d.lifecycle.create(this, userId, (jobId) => this.plan(userId, tableId, req, jobId, origin));
  }

  /** Checks the request against the table, seals a destination, counts the selection against the cap. */
  private async plan(userId: number, tableId: string, p: ExportRequest, jobId: string, origin?: ScheduleOrigin): Promise<JobPlan> {
    const table = await this.d.tables.require(userId, tableId);
    exportFormatOf(p.file_type);
    const params: ExportParams = { file_type: p.file_type, mode: p.mode };
    if (p.compression === 'gzip') params.compression = 'gzip';
    if (p.csv_delimiter !== undefined && p.csv_delimiter !== ',') params.csv_delimiter = p.csv_delimiter;
    if (p.csv_header === false) params.csv_header = false;
    if (p.csv_bom === true) params.csv_bom = true;
    if (p.csv_escape_formulas === true) params.csv_escape_formulas = true;
    if (p.mode === 'part') {
      if (p.start == null && p.end == null)
        throw new InvalidParameterError('start', 'mode "part" needs "start", "end" or both (Unix seconds).');
      if (p.start != null && p.end != null && p.end <= p.start)
        throw new InvalidParameterError('end', '"end" must be greater than "start".');
      if (p.start != null) params.start = p.start;
      if (p.end != null) params.end = p.end;
    }
    const { selection, regexes } = validateSelection(table.schema.fields, p.file_type, p, this.d.limits);
    Object.assign(params, selection);
    if (p.changes_since != null) params.changes = { since: p.changes_since };
    if (origin) {
      params.schedule_id = origin.scheduleId;
      if (origin.changes) params.changes = { after: origin.watermark };
    }
    if (params.csv_customize_headers && params.csv_header === false)
      throw new InvalidParameterError(
        'csv_customize_headers',
        '"csv_customize_headers" names the header: it cannot go with "csv_header": false.',
      );
    await this.d.rows.checkRegexes(regexes);
    const fileName = exportFileName(table.name, dateOf(this.d.clock), exportExtension(params.file_type, params.compression === 'gzip'));
    // A bad destination or connection is a 400 now, before the minute is taken.
    const location = await this.destination(p, jobId, fileName);
    await this.count(table.id, table.schema.fields, params);
    return {
      minute: table.id,
      row: {
        table_id: table.id,
        table_name: table.name,
        params,
        file_type: params.file_type,
        file_name: fileName,
        destination_url: location?.href ?? null,
        location_sealed: location?.sealed ?? null,
        schedule_id: origin?.scheduleId ?? null,
      },
    };
  }

  /**
   * The selection counted against the row cap (its count is the progress bar's 100%). The cheap
   * refusal first: a second request within the minute must not cost a count of a big table.
   */
  private async count(tableId: number, fields: FieldSchema[], params: ExportParams): Promise<void> {
    await this.d.lifecycle.checkMinute(this, tableId);
    const max = this.d.config.exportMaxRows;
    const selected = await this.d.rows.countUpTo(tableId, params, max, fields);
    if (selected > max) throw new TooManyRowsError(max);
    params.expected_rows = selected;
  }

  /** `destination` and `connection` checked and sealed for the job, or undefined for a download link. */
  private async destination(p: ExportRequest, jobId: string, fileName: string): Promise<TaskLocation | undefined> {
    if (p.destination == null) {
      if (p.connection != null) throw new InvalidParameterError('connection', '"connection" goes with "destination".');
      return undefined;
    }
    return this.d.locations.prepare(p.destination, p.connection ?? undefined, 'write', jobId, fileName);
  }

  /**
   * A new export with a failed or cancelled one's parameters: counted again, named for now. A
   * destination is sealed with its credentials to the old job's id and cannot be reused.
   */
  async retry(old: JobRecord): Promise<JobPlan> {
    if (old.table_id === null) throw new AppError('table_deleted', 410, 'The export has no table.');
    const table = await this.d.tables.require(old.user_id, old.table_id);
    const params = { ...(old.params as ExportParams) };
    await this.count(table.id, table.schema.fields, params);
    return {
      minute: table.id,
      row: {
        table_id: table.id,
        table_name: table.name,
        params,
        file_type: params.file_type,
        file_name: exportFileName(table.name, dateOf(this.d.clock), exportExtension(params.file_type, params.compression === 'gzip')),
      },
    };
  }

  /**
   * Streams the selection from PostgreSQL into the file, under the job's claim. Idempotent: the
   * file is written under a key of the job's own and replaced atomically, so a retry overwrites
   * instead of adding.
   */
  async run({ job, signal, db }: JobRunContext): Promise<JobResult> {
    const jobId = job.id;
    const params = { ...(job.params as ExportParams) };
    // A schedule's changes run reads from the watermark current now, its schedule locked until this
    // run's transaction ends; the watermark moves to what this run read only if the run succeeds.
    const scheduled = params.schedule_id !== undefined && params.changes !== undefined && params.changes.since === undefined;
    if (scheduled && params.schedule_id) {
      const mark = await this.schedules.lockWatermark(db, params.schedule_id);
      params.changes = { after: mark?.watermark ?? null };
    }
    const table = job.table_id === null ? null : await this.d.tablesRepo.get(job.table_id, null);
    if (!table) throw new AppError('table_deleted', 410, `Table "${job.table_name}" was deleted before the export ran.`);

    // No second count here: the request counted. Rows added since could push the selection over
    // the cap: the SELECT reads at most cap + 1 rows, and the COPY's own count decides at the end.
    const max = this.d.config.exportMaxRows;
    const report = progressReporter(this.d.jobs, jobId, params.expected_rows ?? max);
    const onRows = (rows: number) => report(Math.min(rows, max));
    const gzip = params.compression === 'gzip';
    const { source: from, stages } = planExport({
      fileType: params.file_type,
      tableName: table.name,
      fields: table.schema.fields,
      csv: {
        delimiter: params.csv_delimiter ?? ',',
        header: params.csv_header ?? true,
        bom: params.csv_bom ?? false,
        escapeFormulas: params.csv_escape_formulas ?? false,
      },
      gzip,
      onRows,
      columns: exportColumnTypes(table.schema.fields, params),
    });
    const fileName = job.file_name ?? exportFileName(table.name, job.created_at, exportExtension(params.file_type, gzip));
    const key = exportFileKey(jobId, fileName);

    const source =
      from.kind === 'csv'
        ? await this.d.rows.copyOut(table.id, table.schema.fields, 'csv', params, {
            csv: { delimiter: from.delimiter, header: from.header, escapeFormulas: from.escapeFormulas },
            limit: max + 1,
            chunkBytes: from.chunkBytes,
            snapshot: scheduled,
          })
        : await this.d.rows.copyOut(table.id, table.schema.fields, 'json', params, {
            limit: max + 1,
            chunkBytes: from.chunkBytes,
            snapshot: scheduled,
          });
    // pipeline() hands errors both ways: a failing COPY fails the write, a failing write ends the COPY.
    const body = pipeline([source, ...stages], () => undefined) as unknown as Transform;
    // A shutdown past its timeout stops the stream: the partial file is removed by put().
    const abort = () => body.destroy(new Error('The export was stopped: the worker is shutting down.'));
    signal.addEventListener('abort', abort, { once: true });
    try {
      // A location instead of storage: write() abandons the object and ends the stream on failure.
      // Both stop at once on the signal, even once the body has ended and the upload is in flight.
      if (job.location_sealed)
        await this.d.locations.write(job.location_sealed, jobId, fileName, gzip ? 'gzip' : params.file_type, body, signal);
      else await this.d.storage.put(key, body, { signal });
    } catch (err) {
      // put() may reject before it reads a byte (the folder cannot be made); the COPY would then
      // hold its pooled connection forever. Ending the stream ends the COPY and frees it.
      body.destroy(err as Error);
      throw err;
    } finally {
      signal.removeEventListener('abort', abort);
    }
    // The stream has ended, so the COPY has completed; a count over the cap fails the job (its file goes).
    const rows = await source.copied;
    if (rows > max) throw new TooManyRowsError(max);
    if (scheduled && params.schedule_id && source.snapshot)
      await this.schedules.advanceWatermark(db, params.schedule_id, source.snapshot, dateOf(this.d.clock));
    return job.location_sealed ? { rows, file_name: fileName } : { rows, file_key: key, file_name: fileName };
  }
}
