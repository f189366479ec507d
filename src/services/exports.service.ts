import { randomUUID } from 'node:crypto';
import { pipeline, type Transform } from 'node:stream';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { JobsRepository, ExportParams, JobRecord } from '../db/repositories/jobs.repository.js';
import type { RowsRepository } from '../db/repositories/rows.repository.js';
import type { TablesRepository } from '../db/repositories/tables.repository.js';
import { AppError, InvalidParameterError, TooManyRowsError } from '../errors.js';
import { exportExtension, exportFormatOf, planExport } from '../formats/index.js';
import { JobName } from '../jobs/job-names.js';
import type { JobQueues } from '../jobs/queues.js';
import { exportFileKey, type StorageDriver } from '../storage/index.js';
import { FILE_TYPES, type JobCreatedResponse } from '../types/api.js';
import { exportColumnTypes } from '../db/table-sql.js';
import { ExportSelectionSchema, validateSelection } from './export-selection.js';
import type { JobLifecycle, JobResult, JobRunContext } from './job-lifecycle.service.js';
import { exportFileName, progressReporter } from './job-progress.js';
import type { TablesService } from './tables.service.js';
import type { MinuteStore } from '../queue/index.js';
import { parseParams } from './validate.js';
import type { TaskLocation, TaskLocations } from './task-locations.js';

// Date.now() sent by mistake would select nothing without a word; seconds stay below 1e11 until the year 5138.
const MILLIS = 'looks like milliseconds; give Unix seconds';
/** Unix seconds as a JSON integer or a string of digits (form posts and query strings send text). */
const unixSeconds = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d{1,15}$/, 'must be an integer (Unix seconds)')
      .transform(Number),
  ])
  .pipe(z.number().int('must be an integer (Unix seconds)').min(0, 'must be 0 or more').max(99_999_999_999, MILLIS));

/** true/false as JSON or as form text. */
const flag = z.union([z.boolean(), z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true')]);

export const ExportSchema = z.object({
  file_type: z.enum(FILE_TYPES, { error: `must be one of ${FILE_TYPES.join(', ')}` }),
  mode: z.enum(['all', 'part'], { error: 'must be "all" or "part"' }),
  start: unixSeconds.nullish(),
  end: unixSeconds.nullish(),
  // Formats (CSV dialect and compression).
  compression: z.enum(['none', 'gzip'], { error: 'must be "none" or "gzip"' }).optional(),
  csv_delimiter: z
    .string()
    .regex(/^[\x20-\x7e\t]$/, 'must be one printable ASCII character or a tab')
    .refine((c) => c !== '"', 'cannot be a quote (")')
    .optional(),
  csv_header: flag.optional(),
  csv_bom: flag.optional(),
  csv_escape_formulas: flag.optional(),
  ...ExportSelectionSchema,
  // A location instead of a download link (src/services/task-locations.ts); checked there.
  destination: z.unknown().optional(),
  connection: z.unknown().optional(),
});

/** What the export and import services share: the table, its rows, the job record, the queue, the files. */
export interface ExportsDeps {
  config: Config;
  tables: TablesService;
  tablesRepo: TablesRepository;
  rows: RowsRepository;
  jobs: JobsRepository;
  limiter: MinuteStore;
  queues: JobQueues;
  storage: StorageDriver;
  lifecycle: JobLifecycle;
  locations: TaskLocations;
}

export class ExportsService {
  constructor(private readonly d: ExportsDeps) {}

  /**
   * Validates, checks the row cap, takes the table's minute and queues the job, in that order:
   * a request refused for any reason does not use up the minute.
   */
  async request(userId: number, tableId: string, body: unknown): Promise<JobCreatedResponse> {
    const table = await this.d.tables.require(userId, tableId);
    const p = parseParams(ExportSchema, body ?? {});
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
    const { selection, regexes } = validateSelection(table.schema.fields, p.file_type, p);
    Object.assign(params, selection);
    if (params.csv_customize_headers && params.csv_header === false)
      throw new InvalidParameterError(
        'csv_customize_headers',
        '"csv_customize_headers" names the header: it cannot go with "csv_header": false.',
      );
    await this.d.rows.checkRegexes(regexes);
    const jobId = randomUUID();
    const createdAt = new Date();
    const fileName = exportFileName(table.name, createdAt, exportExtension(params.file_type, params.compression === 'gzip'));
    // A bad destination or connection is a 400 now, before the minute is taken.
    const location = await this.destination(p, jobId, fileName);
    // The cheap refusal first: a second request within the minute must not cost a count of a big table.
    await this.d.limiter.check('export', table.id);
    const selected = await this.d.rows.countUpTo(table.id, params, this.d.config.exportMaxRows, table.schema.fields);
    if (selected > this.d.config.exportMaxRows) throw new TooManyRowsError(this.d.config.exportMaxRows);
    params.expected_rows = selected;

    await this.d.limiter.acquire('export', table.id, jobId);
    try {
      await this.d.jobs.insert({
        id: jobId,
        type: 'export',
        user_id: userId,
        table_id: table.id,
        table_name: table.name,
        params,
        file_type: params.file_type,
        file_name: fileName,
        upload_key: null,
        destination_url: location?.href ?? null,
        location_sealed: location?.sealed ?? null,
      });
      await this.d.queues.add(JobName.ExportTable, { jobId });
    } catch (err) {
      await this.d.limiter.release('export', table.id, jobId).catch(() => undefined);
      await this.d.jobs.delete(jobId).catch(() => undefined);
      throw err;
    }
    return { status: 'ok', job_id: jobId };
  }

  /** `destination` and `connection` checked and sealed for the job, or undefined for a download link. */
  private async destination(
    p: { destination?: unknown; connection?: unknown },
    jobId: string,
    fileName: string,
  ): Promise<TaskLocation | undefined> {
    if (p.destination === undefined || p.destination === null) {
      if (p.connection !== undefined) throw new InvalidParameterError('connection', '"connection" goes with "destination".');
      return undefined;
    }
    return this.d.locations.prepare(p.destination, p.connection, 'write', jobId, fileName);
  }

  /**
   * Streams the selection from PostgreSQL into the file, under the job's claim (see JobLifecycle).
   * Idempotent: the file is written under a key of the job's own and replaced atomically, so a
   * retry overwrites instead of adding. Returns null when the job had already ended.
   */
  async run(jobId: string, signal?: AbortSignal): Promise<JobRecord | null> {
    return this.d.lifecycle.run(jobId, (ctx) => this.write(ctx), signal);
  }

  private async write({ job, signal }: JobRunContext): Promise<JobResult> {
    const jobId = job.id;
    const params = job.params as ExportParams;
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
          })
        : await this.d.rows.copyOut(table.id, table.schema.fields, 'json', params, { limit: max + 1, chunkBytes: from.chunkBytes });
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
    return job.location_sealed ? { rows, file_name: fileName } : { rows, file_key: key, file_name: fileName };
  }
}
