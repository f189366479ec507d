import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ImportParams, JobRecord } from '../db/repositories/jobs.repository.js';
import type { Pool, PoolClient } from '../db/pool.js';
import { AppError, InvalidParameterError } from '../errors.js';
// The new table's name is read by the schema the OpenAPI document shows for POST /table/import/.
import { newTableName } from './import-options.js';
import {
  createErrorReport,
  explainInputError,
  inferSchema,
  inferWholeFile,
  openImportInput,
  sampleFile,
  sniffForInference,
  sniffUpload,
  type ImportInputOptions,
} from '../formats/index.js';
import { JobName } from '../jobs/job-names.js';
import { exportFileKey, importFileKey } from '../storage/index.js';
import type { ExportsDeps } from './exports.service.js';
import type { JobResult, JobRunContext } from './job-lifecycle.service.js';
import type { FieldSchema, JobCreatedResponse, OnConflict } from '../types/api.js';
import {
  fetchSourceFiles,
  omitName,
  parseSourceImport,
  rowErrorsOf,
  sourceImportParams,
  userFileOptions,
  type ImportFile,
  type StageSource,
} from './import-sources.js';
import { progressReporter } from './job-progress.js';
import { createRowIdGenerator } from './row-id.js';
import { duplicatesError, ImportRowsError, MAX_DUPLICATES_SHOWN, omit, parseImportFields, pick } from './import-options.js';

/** An upload as multer left it on disk. */
export interface UploadedFile {
  path: string;
  originalname: string;
  size: number;
}

export { ImportRowsError } from './import-options.js';

export interface ImportsDeps extends ExportsDeps {
  pool: Pool;
}

export class ImportsService {
  private readonly newId = createRowIdGenerator();

  constructor(private readonly d: ImportsDeps) {}

  /** What can be refused before the upload is read: an unknown table, a minute already used. */
  async precheck(userId: number, tableId: string, query: Record<string, unknown> = {}): Promise<void> {
    const table = await this.d.tables.require(userId, tableId);
    // A dry run writes nothing, so it does not need (or use up) the table's minute.
    if (query.dry_run !== 'true') await this.d.limiter.check('import', table.id);
  }

  /**
   * Checks the upload's content cheaply (type, header, first row), takes the table's minute,
   * moves the file into storage and queues the job. The temp file is gone afterwards, whatever happens.
   */
  async request(
    userId: number,
    tableId: string,
    file: UploadedFile | undefined,
    fields: unknown = {},
    query: Record<string, unknown> = {},
    extra: Pick<ImportParams, 'inferred_schema'> = {},
  ): Promise<JobCreatedResponse> {
    try {
      const table = await this.d.tables.require(userId, tableId);
      if (!file) throw new InvalidParameterError('file', 'Send the file as the multipart/form-data field "file".');
      const f = parseImportFields({ ...(typeof fields === 'object' ? fields : {}), ...pick(query, 'dry_run') });
      const { dryRun, fileOpts } = f;
      const sniff = await sniffUpload(file.path, { fields: table.schema.fields, ...fileOpts });

      const jobId = randomUUID();
      if (!dryRun) await this.d.limiter.acquire('import', table.id, jobId);
      const uploadKey = importFileKey(jobId, `upload.${sniff.format}`);
      try {
        await this.d.storage.putFile(uploadKey, file.path);
        const params: ImportParams = { format: sniff.format, original_name: file.originalname || null, size: file.size };
        if (sniff.gzip) params.gzip = true;
        if (sniff.csvDelimiter !== undefined && sniff.csvDelimiter !== ',') params.csv_delimiter = sniff.csvDelimiter;
        if (fileOpts.csvHeader === false) {
          params.csv_header = false;
          if (sniff.columns) params.columns = sniff.columns;
        }
        if (f.onConflict !== 'error') params.on_conflict = f.onConflict;
        if (dryRun) params.dry_run = true;
        if (extra.inferred_schema) params.inferred_schema = extra.inferred_schema;
        if (!f.email) params.email = false;
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
        if (!dryRun) await this.d.limiter.release('import', table.id, jobId).catch(() => undefined);
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
   * `POST /table/import/`: creates table `name` with the schema inferred from the first rows of
   * the file, then imports the file into it as `request` does. A refusal removes the new table.
   */
  async requestWithInference(
    userId: number,
    file: UploadedFile | undefined,
    fields: unknown = {},
    query: Record<string, unknown> = {},
  ): Promise<JobCreatedResponse & { table_id: number }> {
    let tableId: number | undefined;
    try {
      if (!file) throw new InvalidParameterError('file', 'Send the file as the multipart/form-data field "file".');
      const body = (typeof fields === 'object' && fields !== null ? fields : {}) as Record<string, unknown>;
      const name = newTableName(body);
      const { fileOpts } = parseImportFields(omit(body, 'name'));
      if (fileOpts.csvHeader === false && !fileOpts.columns) {
        throw new InvalidParameterError('columns', 'Without a header line, name the columns in "columns" (comma-separated).');
      }
      const head = await sniffForInference(file.path, fileOpts);
      const sample = await sampleFile(file.path, head.format, head.gzip ?? false, { ...fileOpts, csvDelimiter: head.csvDelimiter ?? ',' });
      const schema = { fields: inferSchema(sample) };
      const table = await this.d.tables.create(userId, { name, schema });
      tableId = table.id;
      const fileFields =
        head.csvDelimiter && !fileOpts.csvDelimiter ? { ...omit(body, 'name'), csv_delimiter: head.csvDelimiter } : omit(body, 'name');
      const res = await this.request(userId, String(table.id), file, fileFields, query, { inferred_schema: schema });
      return { ...res, table_id: table.id };
    } catch (err) {
      if (tableId !== undefined) await this.d.tables.delete(userId, String(tableId)).catch(() => undefined);
      throw err;
    } finally {
      if (file) await rm(file.path, { force: true });
    }
  }

  /**
   * An import from a location (`source`, or MinApp's `dataFileUrl`) instead of an upload: the URL
   * and connection are checked now (a 400 before anything is queued) and sealed into the job row;
   * the worker reads the object, or every object under a folder, when the job runs.
   */
  async requestFromSource(
    userId: number,
    tableId: string,
    body: unknown,
    extra: Pick<ImportParams, 'inferred_schema'> = {},
  ): Promise<JobCreatedResponse> {
    const table = await this.d.tables.require(userId, tableId);
    const req = parseSourceImport(body);
    const jobId = randomUUID();
    const location = await this.d.locations.prepare(req.url, req.connection, 'read', jobId);
    const dryRun = req.fields.dryRun;
    if (!dryRun) await this.d.limiter.acquire('import', table.id, jobId);
    try {
      await this.d.jobs.insert({
        id: jobId,
        type: 'import',
        user_id: userId,
        table_id: table.id,
        table_name: table.name,
        params: sourceImportParams(req, extra),
        file_type: req.fileType ?? null,
        file_name: null,
        upload_key: null,
        source_url: location.href,
        location_sealed: location.sealed,
      });
      await this.d.queues.add(JobName.ImportFile, { jobId });
    } catch (err) {
      if (!dryRun) await this.d.limiter.release('import', table.id, jobId).catch(() => undefined);
      await this.d.jobs.delete(jobId).catch(() => undefined);
      throw err;
    }
    return { status: 'ok', job_id: jobId };
  }

  /**
   * CnosDB's `auto_infer_schema` for a table that does not exist: the first file of the source is
   * fetched now, table `name` is created with the schema inferred from its first rows, and the
   * import is queued as `requestFromSource` does. A refusal removes the new table.
   */
  async requestFromSourceWithInference(userId: number, name: unknown, body: unknown): Promise<JobCreatedResponse & { table_id: number }> {
    if (typeof name !== 'string' || name === '') throw new InvalidParameterError('name', 'Send the new table\'s name as "name".');
    const req = parseSourceImport(omitName(body));
    const { fileOpts } = req.fields;
    if (fileOpts.csvHeader === false && !fileOpts.columns) {
      throw new InvalidParameterError('columns', 'Without a header line, name the columns (a column list after the table name).');
    }
    const sample = await this.d.locations.sampleFirst(req.url, req.connection, this.d.config.uploadMaxBytes, async (path) => {
      const head = await sniffForInference(path, fileOpts);
      return {
        head,
        rows: await sampleFile(path, head.format, head.gzip ?? false, { ...fileOpts, csvDelimiter: head.csvDelimiter ?? ',' }),
      };
    });
    const schema = { fields: inferSchema(sample.rows) };
    const table = await this.d.tables.create(userId, { name, schema });
    try {
      const res = await this.requestFromSource(userId, String(table.id), omitName(body), { inferred_schema: schema });
      return { ...res, table_id: table.id };
    } catch (err) {
      await this.d.tables.delete(userId, String(table.id)).catch(() => undefined);
      throw err;
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
    const params = job.params as ImportParams;
    const table = job.table_id === null ? null : await this.d.tablesRepo.get(job.table_id, null);
    if (!table) throw new AppError('table_deleted', 410, `Table "${job.table_name}" was deleted before the import ran.`);
    if (job.location_sealed) {
      // A location: its object(s) are fetched to local files first, then read like uploads.
      const { files, cleanup } = await fetchSourceFiles(this.d.locations, job, table.schema.fields, this.d.config.uploadMaxBytes, signal);
      try {
        return await this.importFiles(job, client, signal, table.id, table.schema.fields, files);
      } finally {
        await cleanup();
      }
    }
    const uploadKey = job.upload_key;
    if (!uploadKey) throw new AppError('invalid_file', 400, 'The uploaded file is no longer there.');
    const upload: ImportFile = {
      open: () => this.d.storage.get(uploadKey, undefined, { signal }),
      format: params.format,
      gzip: params.gzip ?? false,
      ...(params.csv_delimiter !== undefined ? { csvDelimiter: params.csv_delimiter } : {}),
      size: params.size,
    };
    return this.importFiles(job, client, signal, table.id, table.schema.fields, [upload]);
  }

  /** The import proper, over one file or several (a location's folder), all in the claim's transaction. */
  private async importFiles(
    job: JobRecord,
    client: PoolClient,
    signal: AbortSignal,
    tableId: number,
    tableFields: FieldSchema[],
    files: ImportFile[],
  ): Promise<JobResult> {
    const params = job.params as ImportParams;
    // The table's schema, or the wider one its inferring import finds in the whole file (below).
    let fields = tableFields;
    const report = progressReporter(
      this.d.jobs,
      job.id,
      files.reduce((n, f) => n + f.size, 0),
    );
    const onConflict: OnConflict = params.on_conflict ?? 'error';
    const userOptions = userFileOptions(params);
    let before = 0;
    const inputOptions = (file: ImportFile, lineColumn: boolean, rowsSoFar = 0): ImportInputOptions => ({
      fileType: file.format,
      gzip: file.gzip,
      onBytes: (n) => report(before + n),
      signal,
      encoder: {
        fields,
        defaults: { createdAt: Math.floor(Date.now() / 1000), createdBy: String(job.user_id), newId: this.newId },
        maxRows: this.d.config.exportMaxRows - rowsSoFar,
        lineColumn,
        ...userOptions,
        ...(file.csvDelimiter !== undefined ? { csvDelimiter: file.csvDelimiter } : {}),
      },
    });
    const sources = (lineColumn: boolean): StageSource[] =>
      files.map((f) => ({ file: f, options: (rows) => inputOptions(f, lineColumn, rows) }));

    try {
      if (params.dry_run) {
        // The whole validation, duplicates included, on a connection of its own whose transaction is
        // rolled back; the claim's transaction then records the job's success and nothing else.
        return { rows: await this.withRollback((c) => this.stage(c, tableId, fields, sources(true), onConflict === 'error')) };
      }
      if (onConflict === 'error') {
        // The fast path: straight into the table; PostgreSQL stops at a duplicate id (see below).
        const copyAll = async () => {
          let written = 0;
          before = 0;
          for (const file of files) {
            const input = await openImportInput(file.open, inputOptions(file, false, written));
            try {
              await pipeline([...input.stages, this.d.rows.copyIn(client, tableId, fields)] as unknown as [Readable, Writable], {
                signal,
              });
            } finally {
              await input.cleanup();
            }
            rowErrorsOf(input.encoder, file.label);
            written += input.encoder.rows;
            before += file.size;
          }
          return { rows: written };
        };
        // An import that made its table from the file's first rows (POST /table/import/) may meet
        // a later row they did not foresee: then the whole file decides the schema, once.
        if (!params.inferred_schema) return await copyAll();
        await client.query('SAVEPOINT inferred_import');
        try {
          return await copyAll();
        } catch (err) {
          if (!(err instanceof ImportRowsError) || err.duplicates || signal.aborted) throw err;
          await client.query('ROLLBACK TO SAVEPOINT inferred_import');
          const wider = await this.widenInferred(client, signal, tableId, fields, files, params);
          if (!wider) throw err;
          fields = wider;
          const result = await copyAll();
          await this.d.jobs.setInferredSchema(job.id, { fields });
          return result;
        }
      }
      // skip or update: through a staging table, so one INSERT ... ON CONFLICT decides per row.
      await this.stage(client, tableId, fields, sources(true), false);
      return { rows: await this.d.rows.mergeStaging(client, tableId, fields, onConflict) };
    } catch (err) {
      if (signal.aborted) throw err;
      const e = explainInputError(err) as { code?: string };
      const only = files.length === 1 ? files[0] : undefined;
      if (only && e instanceof ImportRowsError && !e.duplicates)
        await this.writeErrorReport(job, fields, only.open, inputOptions(only, false));
      if (e.code !== '23505') throw e;
      // PostgreSQL stops at the first duplicate id. On that failure path only, the files are read
      // once more into a staging table, and one query names every duplicated id with its line.
      await this.withRollback((c) =>
        this.stage(
          c,
          tableId,
          fields,
          sources(true).map((x) => ({ ...x, options: (rows: number) => ({ ...x.options(rows), onBytes: () => undefined }) })),
          true,
        ),
      );
      throw e;
    }
  }

  /**
   * The schema the whole of an inferring import's files need, starting from the table's (inferred
   * from the first rows), given to the table when it differs and the table is still empty.
   * Undefined when nothing can change: the same schema, a file no schema takes (a built-in column
   * refused, a row that does not parse), or a table that holds rows by now.
   */
  private async widenInferred(
    client: PoolClient,
    signal: AbortSignal,
    tableId: number,
    fields: FieldSchema[],
    files: ImportFile[],
    params: ImportParams,
  ): Promise<FieldSchema[] | undefined> {
    let wider: FieldSchema[] | undefined = fields;
    for (const file of files) {
      if (!wider) return undefined;
      const opts = { ...userFileOptions(params), csvDelimiter: file.csvDelimiter ?? ',' };
      try {
        wider = await inferWholeFile(file.open, file.format, file.gzip, opts, wider, signal);
      } catch (err) {
        // A file the import has already refused: its own errors say why, not this second reading's.
        if (signal.aborted) throw err;
        return undefined;
      }
    }
    if (!wider || JSON.stringify(wider) === JSON.stringify(fields)) return undefined;
    return (await this.d.tablesRepo.widenEmpty(client, tableId, fields, wider)) ? wider : undefined;
  }

  /**
   * COPYs the files into a staging table and checks them whole: every bad row, then every id that
   * repeats in the files or (with `againstTable`) is already in the table. Returns the valid rows.
   */
  private async stage(
    client: PoolClient,
    tableId: number,
    fields: FieldSchema[],
    sources: StageSource[],
    againstTable: boolean,
  ): Promise<number> {
    await this.d.rows.createStaging(client, tableId);
    let rows = 0;
    for (const [index, { file, options }] of sources.entries()) {
      if (index > 0) await this.d.rows.stagingFile(client, index);
      const input = await openImportInput(file.open, options(rows));
      try {
        await pipeline([...input.stages, this.d.rows.copyInStaging(client, fields)] as unknown as [Readable, Writable]);
      } finally {
        await input.cleanup();
      }
      rowErrorsOf(input.encoder, file.label);
      rows += input.encoder.rows;
    }
    const dups = await this.d.rows.stagingDuplicates(client, tableId, againstTable, MAX_DUPLICATES_SHOWN);
    const labels = sources.map((x) => x.file.label);
    if (dups.total > 0) throw duplicatesError(dups, labels);
    return rows;
  }

  /**
   * Reads the file once more and stores its bad rows, with their reasons, as a CSV the user can fix
   * and import again; the job's `error_report_url` and the failure mail link it. Best effort: the
   * import has failed either way, and a report that cannot be written must not hide why.
   */
  private async writeErrorReport(
    job: JobRecord,
    fields: FieldSchema[],
    open: () => Promise<Readable>,
    opts: ImportInputOptions,
  ): Promise<void> {
    const key = exportFileKey(job.id, `${job.table_name}_errors.csv`);
    const report = createErrorReport(fields);
    try {
      const stored = this.d.storage.put(key, report.stream);
      try {
        const input = await openImportInput(open, {
          ...opts,
          onBytes: () => undefined,
          encoder: { ...opts.encoder, maxErrors: 0, onBadRow: (line, row, reasons) => report.add(line, row, reasons) },
        });
        try {
          await pipeline([...input.stages, new Writable({ write: (_c, _e, cb) => cb() })] as unknown as [Readable, Writable]);
        } finally {
          await input.cleanup();
        }
        report.end();
      } catch (err) {
        report.stream.destroy(err as Error);
      }
      await stored;
      if (report.rows > 0) await this.d.jobs.setErrorReport(job.id, key);
      else await this.d.storage.delete(key);
    } catch {
      await this.d.storage.delete(key).catch(() => undefined);
    }
  }

  /** Runs `work` in a transaction that is always rolled back. */
  private async withRollback<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.d.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      return await work(client);
    } catch (err) {
      throw explainInputError(err);
    } finally {
      await client.query('ROLLBACK').catch((err: Error) => (broken = err));
      client.release(broken);
    }
  }
}
