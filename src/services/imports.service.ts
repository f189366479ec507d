import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ImportParams, JobRecord, JobsRepository } from '../db/repositories/jobs.repository.js';
import type { Pool } from '../db/pool.js';
import { AppError, InvalidParameterError } from '../errors.js';
import { createImportEncoder, sniffUpload } from '../formats/index.js';
import { JobName } from '../jobs/job-names.js';
import { importFileKey } from '../storage/index.js';
import type { ExportsDeps } from './exports.service.js';
import type { JobResult, JobRunContext } from './job-lifecycle.service.js';
import type { FieldSchema, JobCreatedResponse, JobError } from '../types/api.js';
import { progressReporter } from './job-progress.js';
import { createRowIdGenerator } from './row-id.js';

/** An upload as multer left it on disk. */
export interface UploadedFile {
  path: string;
  originalname: string;
  size: number;
}

/** The import's rows were refused: the job fails with these errors and nothing is written. */
export class ImportRowsError extends AppError {
  override name = 'ImportRowsError';
  constructor(
    readonly rowErrors: JobError[],
    readonly errorCount: number,
  ) {
    super(
      'invalid_row',
      400,
      `${errorCount} row${errorCount === 1 ? '' : 's'} of the file ${errorCount === 1 ? 'is' : 'are'} not valid; no row was written.`,
    );
  }
}

export interface ImportsDeps extends ExportsDeps {
  pool: Pool;
}

export class ImportsService {
  private readonly newId = createRowIdGenerator();

  constructor(private readonly d: ImportsDeps) {}

  /** What can be refused before the upload is read: an unknown table, a minute already used. */
  async precheck(userId: number, tableId: string): Promise<void> {
    const table = await this.d.tables.require(userId, tableId);
    await this.d.limiter.check('import', table.id);
  }

  /**
   * Checks the upload's content cheaply (type, header, first row), takes the table's minute,
   * moves the file into storage and queues the job. The temp file is gone afterwards, whatever happens.
   */
  async request(userId: number, tableId: string, file: UploadedFile | undefined): Promise<JobCreatedResponse> {
    try {
      const table = await this.d.tables.require(userId, tableId);
      if (!file) throw new InvalidParameterError('file', 'Send the file as the multipart/form-data field "file".');
      const sniff = await sniffUpload(file.path, { fields: table.schema.fields, originalName: file.originalname });

      const jobId = randomUUID();
      await this.d.limiter.acquire('import', table.id, jobId);
      const uploadKey = importFileKey(jobId, `upload.${sniff.format}`);
      try {
        await this.d.storage.putFile(uploadKey, file.path);
        const params: ImportParams = { format: sniff.format, original_name: file.originalname || null, size: file.size };
        await this.d.jobs.insert({
          id: jobId,
          type: 'import',
          user_id: userId,
          table_id: table.id,
          table_name: table.name,
          params,
          file_type: sniff.format,
          file_name: file.originalname || null,
          upload_key: uploadKey,
        });
        await this.d.queues.add(JobName.ImportFile, { jobId });
      } catch (err) {
        await this.d.limiter.release('import', table.id, jobId).catch(() => undefined);
        await this.d.jobs.delete(jobId).catch(() => undefined);
        await this.d.storage.delete(uploadKey).catch(() => undefined);
        throw err;
      }
      return { status: 'ok', job_id: jobId };
    } finally {
      if (file) await rm(file.path, { force: true });
    }
  }

  /**
   * Reads the upload, validates every row and COPYs them inside the job's claim (see JobLifecycle):
   * the rows and the job's success commit together in the claim's transaction, or nothing does. A
   * worker that dies mid-way leaves an open transaction that PostgreSQL rolls back, and the retry
   * starts clean; a second attempt while the first lives is refused before it writes; a retry of
   * a job that already committed finds it ended and writes nothing.
   */
  async run(jobId: string, signal?: AbortSignal): Promise<JobRecord | null> {
    return this.d.lifecycle.run(jobId, (ctx) => this.copyRows(ctx), signal);
  }

  private async copyRows({ job, db: client, signal }: JobRunContext): Promise<JobResult> {
    const jobId = job.id;
    const params = job.params as ImportParams;
    const table = await this.d.tablesRepo.get(job.table_id, null);
    if (!table) throw new AppError('table_deleted', 410, `Table "${job.table_name}" was deleted before the import ran.`);
    if (!job.upload_key) throw new AppError('invalid_file', 400, 'The uploaded file is no longer there.');

    const report = progressReporter(this.d.jobs, jobId, params.size);
    const encoder = createImportEncoder(params.format, {
      fields: table.schema.fields,
      defaults: { createdAt: Math.floor(Date.now() / 1000), createdBy: String(job.user_id), newId: this.newId },
      maxRows: this.d.config.exportMaxRows,
    });

    const source = await this.d.storage.get(job.upload_key);
    const sink = this.d.rows.copyIn(client, table.id, table.schema.fields);
    try {
      await pipeline(source, byteCounter(report), encoder, sink, { signal });
    } catch (err) {
      throw await this.explainCopyError(err, job, table.schema.fields);
    }
    if (encoder.errorCount > 0) throw new ImportRowsError(encoder.errors, encoder.errorCount);
    return { rows: encoder.rows };
  }

  /**
   * PostgreSQL's refusals during COPY, in the import's own words. A duplicate id names the COPY
   * row; a second read of the file (only on this failure path) finds the line it came from.
   */
  private async explainCopyError(err: unknown, job: JobRecord, fields: FieldSchema[]): Promise<unknown> {
    const e = err as { code?: string; detail?: string; where?: string };
    if (e.code !== '23505') return err;
    const id = /\(id\)=\((.*)\)/.exec(e.detail ?? '')?.[1] ?? '?';
    const row = Number(/COPY \S+, line (\d+)/.exec(e.where ?? '')?.[1] ?? NaN);
    let line: number | undefined;
    if (Number.isSafeInteger(row)) {
      const locator = createImportEncoder((job.params as ImportParams).format, {
        fields,
        defaults: { createdAt: 0, createdBy: '', newId: this.newId },
        maxRows: Number.MAX_SAFE_INTEGER,
        onRowLine: (n, fileLine) => {
          if (n === row) line = fileLine;
        },
      });
      await pipeline(await this.d.storage.get(job.upload_key!), locator, new Writable({ write: (_c, _e, cb) => cb() })).catch(() => undefined);
    }
    const where = line === undefined ? '' : `line ${line}: `;
    const error: JobError = {
      error_code: 'invalid_row',
      error_msg: `${where}the id "${id}" is already in the table or appears earlier in the file.`,
      field: 'id',
    };
    if (line !== undefined) error.line = line;
    return new ImportRowsError([error], 1);
  }
}

function byteCounter(report: (bytes: number) => void): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytes += chunk.length;
      report(bytes);
      cb(null, chunk);
    },
  });
}
