import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ImportParams, JobRecord, JobsRepository } from '../db/repositories/jobs.repository.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { AppError, InvalidFileError, InvalidParameterError } from '../errors.js';
import { createImportEncoder, sniffUpload, type ImportFormat } from '../formats/index.js';
import { JobName } from '../jobs/job-names.js';
import { importFileKey } from '../storage/index.js';
import type { ExportsDeps } from './exports.service.js';
import { FILE_TYPES, type FieldSchema, type JobCreatedResponse, type JobError } from '../types/api.js';
import { progressReporter } from './job-progress.js';
import { createRowIdGenerator } from './row-id.js';
import { parseParams } from './validate.js';

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
   * An import from a location (`source`, or MinApp's `dataFileUrl`) instead of an upload: the URL
   * and connection are checked now (a 400 before anything is queued) and sealed into the job row;
   * the worker reads the object, or every object under a folder, when the job runs.
   */
  async requestFromSource(userId: number, tableId: string, body: unknown): Promise<JobCreatedResponse> {
    const table = await this.d.tables.require(userId, tableId);
    const p = parseParams(SourceImportSchema, body ?? {});
    if (p.source !== undefined && p.dataFileUrl !== undefined) throw new InvalidParameterError('dataFileUrl', 'Give "source" or its synonym "dataFileUrl", not both.');
    const url = p.source ?? p.dataFileUrl;
    if (url === undefined) throw new InvalidParameterError('source', 'Name the file in "source" (JSON body), or send it as the multipart/form-data field "file".');
    const jobId = randomUUID();
    const location = await this.d.locations.prepare(url, p.connection, 'read', jobId);
    await this.d.limiter.acquire('import', table.id, jobId);
    try {
      const params: ImportParams = { format: p.file_type ?? 'csv', original_name: null, size: 0, ...(p.file_type ? {} : { detect_format: true }) };
      await this.d.jobs.insert({
        id: jobId,
        type: 'import',
        user_id: userId,
        table_id: table.id,
        table_name: table.name,
        params,
        file_type: p.file_type ?? null,
        file_name: null,
        upload_key: null,
        source_url: location.href,
        location_sealed: location.sealed,
      });
      await this.d.queues.add(JobName.ImportFile, { jobId });
    } catch (err) {
      await this.d.limiter.release('import', table.id, jobId).catch(() => undefined);
      await this.d.jobs.delete(jobId).catch(() => undefined);
      throw err;
    }
    return { status: 'ok', job_id: jobId };
  }

  /**
   * Reads the upload, validates every row and COPYs them in one transaction that also marks the
   * job succeeded: all rows and the status commit together, or nothing does. A worker that dies
   * mid-way leaves an open transaction that PostgreSQL rolls back, and the retry starts clean; a
   * retry of a job that already committed finds it ended and writes nothing.
   */
  async run(jobId: string): Promise<JobRecord | null> {
    const job = await this.d.jobs.start(jobId);
    if (!job) return null;
    const params = job.params as ImportParams;
    const table = await this.d.tablesRepo.get(job.table_id, null);
    if (!table) throw new AppError('table_deleted', 410, `Table "${job.table_name}" was deleted before the import ran.`);
    if (job.location_sealed) return this.runFromSource(job, table.id, table.schema.fields);
    if (!job.upload_key) throw new AppError('invalid_file', 400, 'The uploaded file is no longer there.');

    const report = progressReporter(this.d.jobs, jobId, params.size);
    const encoder = createImportEncoder(params.format, {
      fields: table.schema.fields,
      defaults: { createdAt: Math.floor(Date.now() / 1000), createdBy: String(job.user_id), newId: this.newId },
      maxRows: this.d.config.exportMaxRows,
    });

    await withTransaction(this.d.pool, async (client) => {
      const source = await this.d.storage.get(job.upload_key!);
      const sink = this.d.rows.copyIn(client, table.id, table.schema.fields);
      try {
        await pipeline(source, byteCounter(report), encoder, sink);
      } catch (err) {
        throw await this.explainCopyError(err, job, table.schema.fields);
      }
      if (encoder.errorCount > 0) throw new ImportRowsError(encoder.errors, encoder.errorCount);
      await this.d.jobs.succeed(jobId, { rows: encoder.rows }, client);
    });
    return this.d.jobs.get(jobId, null);
  }

  /**
   * An import from a location: the object(s) are downloaded to local files first (capped at the
   * upload limit), each is checked as an upload is, and all of them are COPYed in ONE transaction
   * that also marks the job succeeded: every file's rows, or none.
   */
  private async runFromSource(job: JobRecord, tableId: number, fields: FieldSchema[]): Promise<JobRecord | null> {
    const dir = join(this.d.config.storageDir, '.incoming', `source-${job.id}`);
    try {
      const files = await this.d.locations.fetch(job.location_sealed ?? '', job.id, dir, this.d.config.uploadMaxBytes);
      const many = files.length > 1;
      const params = job.params as ImportParams;
      const formats: ImportFormat[] = [];
      for (const f of files) {
        try {
          const sniff = await sniffUpload(f.path, { fields, ...(params.detect_format ? {} : { originalName: `x.${params.format}` }) });
          formats.push(sniff.format);
        } catch (err) {
          throw many && err instanceof InvalidFileError ? new InvalidFileError(`${f.name}: ${err.message}`, err.details) : err;
        }
      }
      const report = progressReporter(this.d.jobs, job.id, files.reduce((n, f) => n + f.size, 0));
      let bytes = 0;
      await withTransaction(this.d.pool, async (client) => {
        let rows = 0;
        for (const [i, f] of files.entries()) {
          const encoder = createImportEncoder(formats[i] ?? 'csv', {
            fields,
            defaults: { createdAt: Math.floor(Date.now() / 1000), createdBy: String(job.user_id), newId: this.newId },
            maxRows: this.d.config.exportMaxRows - rows,
          });
          const sink = this.d.rows.copyIn(client, tableId, fields);
          await pipeline(createReadStream(f.path), byteCounter((n) => report(bytes + n)), encoder, sink);
          bytes += f.size;
          if (encoder.errorCount > 0) {
            const errors = many ? encoder.errors.map((e) => ({ ...e, error_msg: `${f.name}: ${e.error_msg}` })) : encoder.errors;
            throw new ImportRowsError(errors, encoder.errorCount);
          }
          rows += encoder.rows;
        }
        await this.d.jobs.succeed(job.id, { rows }, client);
      });
      return this.d.jobs.get(job.id, null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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

/** The JSON body of an import from a location. */
const SourceImportSchema = z.object({
  source: z.unknown().optional(),
  dataFileUrl: z.unknown().optional(),
  connection: z.unknown().optional(),
  file_type: z.enum(FILE_TYPES, { error: `must be one of ${FILE_TYPES.join(', ')}` }).optional(),
});

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
