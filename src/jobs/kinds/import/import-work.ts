/**
 * The import's work: the file(s) read, every row checked against the table, and COPYed inside the
 * job's claim, all or nothing; through a staging table when rows may conflict with the table's
 * (`on_conflict`), for a dry run, and to name every duplicate id; with an error report of the bad
 * rows to fix and import again.
 */
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dateOf, unixSeconds } from '../../../clock.js';
import { withTransaction, type PoolClient } from '../../../db/pool.js';
import type { ImportParams, JobRecord } from '../../../db/repositories/jobs.repository.js';
import { UpsertRepository, type MergeCounts } from '../../../db/repositories/upsert.repository.js';
import { AppError, InvalidFileError } from '../../../errors.js';
import { createErrorReport, explainInputError, inferWholeFile, openImportInput, type ImportInputOptions } from '../../../formats/index.js';
import { createRowIdGenerator } from '../../../services/tables/row-id.js';
import { exportFileKey } from '../../../storage/index.js';
import { BUILTIN_FIELD_TYPES, BUILTIN_FIELDS, type FieldSchema, type ImportPreview, type OnConflict } from '../../../types/api.js';
import type { JobResult, JobRunContext } from '../../job-kind.js';
import { progressReporter } from '../../job-progress.js';
import type { KindDeps } from '../kind-deps.js';
import { duplicatesError, ImportRowsError, keyProblemsError, MAX_DUPLICATES_SHOWN } from './import-errors.js';
import { fetchSourceFiles, rowErrorsOf, userFileOptions, type ImportFile, type StageSource } from './import-sources.js';

/** Refuses a `conflict_key` field the file has no column for (every row's key would be empty). */
function keyGiven(key: readonly string[], given: ReadonlyMap<string, string>): void {
  const missing = key.filter((k) => !given.has(k));
  if (missing.length === 0) return;
  const names = missing.map((k) => JSON.stringify(k)).join(', ');
  throw new InvalidFileError(
    `conflict_key names ${names}, but the file has no column for ${missing.length === 1 ? 'it' : 'them'}; add the column, or name the file column that holds it in "mapping".`,
    { columns: missing },
  );
}

/** Rows a dry run shows as they would be stored. */
export const PREVIEW_ROWS = 20;

export class ImportWork {
  private readonly newId = createRowIdGenerator();
  private readonly upsert = new UpsertRepository();

  constructor(private readonly d: KindDeps) {}

  /**
   * Reads the file(s), validates every row and COPYs them inside the job's claim: the rows and the
   * job's success commit together in the claim's transaction, or nothing does. A worker that dies
   * mid-way leaves an open transaction that PostgreSQL rolls back, and the retry starts clean.
   */
  async run({ job, db: client, signal }: JobRunContext): Promise<JobResult> {
    const params = job.params as ImportParams;
    const table = job.table_id === null ? null : await this.d.tablesRepo.get(job.table_id, null);
    if (!table) throw new AppError('table_deleted', 410, `Table "${job.table_name}" was deleted before the import ran.`);
    if (job.location_sealed) {
      // A location: its object(s) are fetched to local files first, then read like uploads.
      const { files, cleanup } = await fetchSourceFiles(
        this.d.locations,
        job,
        table.schema.fields,
        this.d.config.uploadMaxBytes,
        this.d.limits,
        signal,
      );
      try {
        await this.recordReadAs(job, files);
        return await this.importFiles(job, client, signal, table.id, table.schema.fields, files);
      } finally {
        await cleanup();
      }
    }
    const uploadKey = job.upload_key;
    if (!uploadKey) throw new AppError('invalid_file', 400, 'The uploaded file is no longer there.');
    if (params.sheet_tables) return this.importSheets(job, client, signal, uploadKey, params.sheet_tables);
    const upload: ImportFile = {
      open: () => this.d.storage.get(uploadKey, undefined, { signal }),
      format: params.format,
      gzip: params.gzip ?? false,
      ...(params.csv_delimiter !== undefined ? { csvDelimiter: params.csv_delimiter } : {}),
      ...(params.encoding !== undefined ? { encoding: params.encoding } : {}),
      size: params.size,
    };
    return this.importFiles(job, client, signal, table.id, table.schema.fields, [upload]);
  }

  /**
   * A location's files are looked at only when the job runs: the job then says the encoding and
   * decimal separator they were read with, when its text files all agree on them.
   */
  private async recordReadAs(job: JobRecord, files: ImportFile[]): Promise<void> {
    const text = files.filter((f) => f.format === 'csv' || f.format === 'json' || f.format === 'ndjson');
    if (!text.length) return;
    const params = job.params as ImportParams;
    const found: Pick<ImportParams, 'encoding' | 'decimal_separator'> = {};
    const encodings = new Set(text.map((f) => f.encoding ?? params.encoding ?? 'utf-8'));
    if (encodings.size === 1) found.encoding = [...encodings][0] as string;
    const csv = text.filter((f) => f.format === 'csv');
    const decimals = new Set(csv.map((f) => params.decimal_separator ?? f.decimalSeparator));
    const decimal = decimals.size === 1 ? [...decimals][0] : undefined;
    if (decimal !== undefined) found.decimal_separator = decimal;
    if (found.encoding !== params.encoding || found.decimal_separator !== params.decimal_separator)
      await this.d.jobs.setReadAs(job.id, found);
  }

  /**
   * `sheets=all`: each sheet of the workbook into its own table, one after the other in the claim's
   * transaction, so a bad row in any sheet leaves every table as it was. Errors name the sheet.
   */
  private async importSheets(
    job: JobRecord,
    client: PoolClient,
    signal: AbortSignal,
    uploadKey: string,
    sheets: NonNullable<ImportParams['sheet_tables']>,
  ): Promise<JobResult> {
    const params = job.params as ImportParams;
    let rows = 0;
    for (const s of sheets) {
      const table = await this.d.tablesRepo.get(s.table_id, null);
      if (!table)
        throw new AppError('table_deleted', 410, `Table "${s.table_name}" (sheet "${s.sheet}") was deleted before the import ran.`);
      const sheetJob: JobRecord = { ...job, table_id: table.id, table_name: table.name, params: { ...params, sheet: s.sheet } };
      delete (sheetJob.params as ImportParams).sheet_tables;
      const upload: ImportFile = {
        open: () => this.d.storage.get(uploadKey, undefined, { signal }),
        format: params.format,
        gzip: false,
        label: `sheet "${s.sheet}"`,
        size: params.size,
      };
      const result = await this.importFiles(sheetJob, client, signal, table.id, table.schema.fields, [upload], false);
      rows += result.rows ?? 0;
    }
    return { rows };
  }

  /** The import proper, over one file or several (a location's folder), all in the claim's transaction. */
  private async importFiles(
    job: JobRecord,
    client: PoolClient,
    signal: AbortSignal,
    tableId: number,
    tableFields: FieldSchema[],
    files: ImportFile[],
    /** false: a sheets=all sheet, whose table the job made (it is undone by deleting the tables). */
    keepUndo = true,
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
      maxInflatedBytes: this.d.config.uploadMaxBytes,
      signal,
      encoder: {
        fields,
        defaults: { createdAt: unixSeconds(this.d.clock), createdBy: String(job.user_id), newId: this.newId },
        limits: this.d.limits,
        maxRows: this.d.config.exportMaxRows - rowsSoFar,
        lineColumn,
        ...userOptions,
        ...(file.csvDelimiter !== undefined ? { csvDelimiter: file.csvDelimiter } : {}),
        ...(file.encoding !== undefined ? { encoding: file.encoding } : {}),
        ...(file.decimalSeparator !== undefined ? { decimalSeparator: file.decimalSeparator } : {}),
      },
    });
    const sources = (lineColumn: boolean): StageSource[] =>
      files.map((f) => ({ file: f, options: (rows) => inputOptions(f, lineColumn, rows) }));
    const key = onConflict === 'error' ? undefined : params.conflict_key;
    const labels = files.map((f) => f.label);

    try {
      if (params.dry_run) {
        // The whole validation, duplicates included, on a connection of its own whose transaction is
        // rolled back; the claim's transaction then records the job's success and nothing else.
        // With on_conflict, what the import would do with each row is counted too; nothing is locked or written.
        return await this.withRollback(async (c) => {
          const given = new Map<string, string>();
          const rows = await this.stage(c, tableId, fields, sources(true), onConflict === 'error', given);
          const preview = await this.preview(c, fields, files[0], params, given);
          if (onConflict === 'error') return { rows, result: { inserted: rows, updated: 0, skipped: 0, preview } };
          if (key) {
            keyGiven(key, given);
            const problems = await this.upsert.keyProblems(c, tableId, key, MAX_DUPLICATES_SHOWN);
            if (problems.total > 0) throw keyProblemsError(problems, key, labels);
          }
          const matched = await this.upsert.countMatches(c, tableId, key ?? ['id']);
          const counts: MergeCounts =
            onConflict === 'update'
              ? { inserted: rows - matched, updated: matched, skipped: 0 }
              : { inserted: rows - matched, updated: 0, skipped: matched };
          return { rows: counts.inserted + counts.updated, result: { ...counts, preview } };
        });
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
          // In the (sub)transaction that COPYed: the undo finds the rows by it.
          if (keepUndo) await this.upsert.recordInserted(client, job.id, tableId, fields, dateOf(this.d.clock));
          return { rows: written, result: { inserted: written, updated: 0, skipped: 0 } };
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
      // skip or update: through a staging table, then by id one INSERT ... ON CONFLICT decides per
      // row; by a key of fields (no unique index), an UPDATE ... FROM and an INSERT of the rest.
      const given = new Map<string, string>();
      await this.stage(client, tableId, fields, sources(true), false, given);
      let counts: MergeCounts;
      if (key) {
        keyGiven(key, given);
        await this.upsert.lockForMerge(client, tableId);
        const problems = await this.upsert.keyProblems(client, tableId, key, MAX_DUPLICATES_SHOWN);
        if (problems.total > 0) throw keyProblemsError(problems, key, labels);
        counts = await this.upsert.mergeByKey(client, job.id, tableId, fields, key, onConflict, {
          given: [...given.keys()],
          now: unixSeconds(this.d.clock),
          at: dateOf(this.d.clock),
        });
      } else {
        counts = await this.upsert.mergeById(client, job.id, tableId, fields, onConflict, dateOf(this.d.clock));
      }
      return { rows: counts.inserted + counts.updated, result: { ...counts } };
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
    // The whole-file inference reads the file's own column names; a mapped import keeps its first schema.
    if (params.mapping) return undefined;
    let wider: FieldSchema[] | undefined = fields;
    for (const file of files) {
      if (!wider) return undefined;
      const opts = {
        ...userFileOptions(params),
        csvDelimiter: file.csvDelimiter ?? ',',
        limits: this.d.limits,
        ...(file.encoding !== undefined ? { encoding: file.encoding } : {}),
        ...(file.decimalSeparator !== undefined ? { decimalSeparator: file.decimalSeparator } : {}),
      };
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
    /** Filled with the fields the files give, each with the file column it comes from (the first file's, when several give it). */
    given?: Map<string, string>,
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
      for (const [field, column] of input.encoder.sourceOf) if (!given?.has(field)) given?.set(field, column);
    }
    const dups = await this.d.rows.stagingDuplicates(client, tableId, againstTable, MAX_DUPLICATES_SHOWN);
    const labels = sources.map((x) => x.file.label);
    if (dups.total > 0) throw duplicatesError(dups, labels);
    return rows;
  }

  /**
   * What a dry run shows before the user commits: the first rows as they would be stored, how each
   * field is filled (its type and the file column it comes from; `null`: the file does not give
   * it, so it takes its default or stays empty), the file columns `mapping` drops, and how the file
   * was read.
   */
  private async preview(
    client: PoolClient,
    fields: FieldSchema[],
    file: ImportFile | undefined,
    params: ImportParams,
    given: ReadonlyMap<string, string>,
  ): Promise<ImportPreview> {
    const columns: ImportPreview['columns'] = [
      ...BUILTIN_FIELDS.filter((b) => given.has(b)).map((b) => ({ field: b, type: BUILTIN_FIELD_TYPES[b], source: given.get(b) ?? null })),
      ...fields.map((f) => ({ field: f.name, type: f.type, source: given.get(f.name) ?? null })),
    ];
    const read: ImportPreview['file'] = { format: file?.format ?? params.format, gzip: file?.gzip ?? false };
    if (read.format === 'csv') read.csv_delimiter = file?.csvDelimiter ?? params.csv_delimiter ?? ',';
    // Options other parts of the import may add (an encoding found, a sheet chosen) are shown when the job has them.
    const extra = params as { encoding?: unknown; sheet?: unknown; decimal_separator?: unknown };
    if (typeof extra.encoding === 'string') read.encoding = extra.encoding;
    if (typeof extra.sheet === 'string' || typeof extra.sheet === 'number') read.sheet = extra.sheet;
    if (typeof extra.decimal_separator === 'string') read.decimal_separator = extra.decimal_separator;
    const dropped = Object.entries(params.mapping ?? {})
      .filter(([, to]) => to === null)
      .map(([from]) => from);
    return {
      rows: await this.d.rows.stagedPreview(client, fields, PREVIEW_ROWS),
      columns,
      ...(dropped.length ? { dropped } : {}),
      file: read,
    };
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
    try {
      return await withTransaction(this.d.pool, work, { rollback: true });
    } catch (err) {
      throw explainInputError(err);
    }
  }
}
