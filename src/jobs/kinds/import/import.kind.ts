/**
 * The import: a file (an upload, or the object(s) of a location) into a table, all or nothing; or
 * into a new table whose schema is inferred from the file. The request side checks what can be
 * checked cheaply (the table, the file's type and header, the location and its credentials)
 * before the job is born; the work is in import-work.ts.
 */
import type { ImportFields, SourceImportRequest } from '../../../contracts/imports.js';
import type { ImportParams, JobRecord } from '../../../db/repositories/jobs.repository.js';
import { AppError, InvalidFileError, InvalidParameterError, UploadGoneError } from '../../../errors.js';
import {
  formatOf,
  inferSchema,
  sampleFile,
  sniffForInference,
  sniffUpload,
  ERROR_REPORT_COLUMN,
  type ImportFileOptions,
  type RowReadOptions,
  type SniffResult,
} from '../../../formats/index.js';
import { UnknownSheetError } from '../../../formats/xlsx/index.js';
import { UTF8 } from '../../../formats/text-encoding.js';
import { importFileKey } from '../../../storage/index.js';
import { BUILTIN_FIELDS, type FieldSchema, type JobCreatedResponse, type TableSchema } from '../../../types/api.js';
import type { JobKind, JobPlan, JobResult, JobRunContext } from '../../job-kind.js';
import { QueueName } from '../../job-names.js';
import type { KindDeps } from '../kind-deps.js';
import { checkConflictKey, checkMapping, sniffFields, sourceImportParams } from './import-sources.js';
import { ImportWork } from './import-work.js';

/** The file options to read a sniffed file with: the user's, and the delimiter and encoding found. */
function headOptions(fileOpts: ImportFileOptions, head: SniffResult): ImportFileOptions & { csvDelimiter: string } {
  return {
    ...fileOpts,
    csvDelimiter: head.csvDelimiter ?? ',',
    ...(head.encoding !== undefined ? { encoding: head.encoding } : {}),
    ...(fileOpts.decimalSeparator === undefined && head.decimalSeparator !== undefined ? { decimalSeparator: head.decimalSeparator } : {}),
  };
}

/** The sheet of a workbook an upload's import reads; a `sheet` it does not have is the request's fault. */
async function pickSheet(
  choose: (path: string, opts: RowReadOptions) => Promise<string>,
  path: string,
  fileOpts: ImportFileOptions,
  fields: readonly FieldSchema[],
): Promise<string> {
  const columns = [...BUILTIN_FIELDS, ...fields.map((f) => f.name), ERROR_REPORT_COLUMN];
  try {
    return await choose(path, { columns, ...(fileOpts.sheet !== undefined ? { sheet: fileOpts.sheet } : {}) });
  } catch (err) {
    if (err instanceof UnknownSheetError) throw new InvalidParameterError('sheet', err.message);
    throw err;
  }
}

/**
 * The tables `sheets=all` makes: one per sheet with rows under a header (empty sheets and sheets of
 * a header alone make none), named `NAME_<sheet>` in the characters a table name takes.
 */
async function workbookTables(
  path: string,
  name: string,
  sheets: string[],
  fileOpts: ImportFileOptions,
): Promise<Array<{ sheet: string; name: string; schema: TableSchema }>> {
  const out: Array<{ sheet: string; name: string; schema: TableSchema }> = [];
  const taken = new Set<string>();
  for (const [i, sheet] of sheets.entries()) {
    let sample: Awaited<ReturnType<typeof sampleFile>>;
    try {
      sample = await sampleFile(path, 'xlsx', false, { ...fileOpts, csvDelimiter: ',', sheet });
    } catch (err) {
      if (err instanceof InvalidFileError && / is empty: it has no header row/.test(err.message)) continue;
      throw err;
    }
    if (sample.rows.length === 0) continue;
    let schema: TableSchema;
    try {
      schema = { fields: inferSchema(sample) };
    } catch (err) {
      if (err instanceof InvalidFileError) throw new InvalidFileError(`Sheet "${sheet}": ${err.message}`, err.details);
      throw err;
    }
    const slug = sheet
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .toLowerCase();
    let table = `${name}_${slug || `sheet${i + 1}`}`.slice(0, 64);
    if (taken.has(table.toLowerCase())) table = `${name}_sheet${i + 1}`.slice(0, 64);
    taken.add(table.toLowerCase());
    out.push({ sheet, name: table, schema });
  }
  if (!out.length) throw new InvalidFileError('No sheet of the workbook holds rows under a header row: there is nothing to import.');
  return out;
}

/** An upload as the HTTP edge received it to disk. */
export interface UploadedFile {
  path: string;
  originalname: string;
  size: number;
}

type Created = JobCreatedResponse & { table_id?: number };
type Sample = Awaited<ReturnType<typeof sampleFile>>;

/** A new table's sample as `mapping` renames and drops its columns, so the schema inferred has the fields named there. */
function mappedSample(sample: Sample, mapping: Record<string, string | null> | undefined): Sample {
  if (!mapping) return sample;
  const to = new Map(Object.entries(mapping));
  const name = (c: string) => (to.has(c) ? (to.get(c) ?? null) : c);
  const columns = sample.columns.map(name).filter((c): c is string => c !== null);
  const rows = sample.rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      const n = name(k);
      if (n !== null) out[n] = v;
    }
    return out;
  });
  return { ...sample, columns, rows };
}

export class ImportKind implements JobKind<'import'> {
  readonly type = 'import';
  readonly queue = QueueName.Import;
  readonly folder = 'import';
  readonly minutePer = 'table';
  readonly keepsUploadForRetry = true;
  private readonly work: ImportWork;

  constructor(private readonly d: KindDeps) {
    this.work = new ImportWork(d);
  }

  run(ctx: JobRunContext): Promise<JobResult> {
    return this.work.run(ctx);
  }

  /** What can be refused before an upload is read: an unknown table, a minute already used (a dry run takes none). */
  async precheck(userId: number, tableId: string, dryRun: boolean): Promise<void> {
    const table = await this.d.tables.require(userId, tableId);
    if (!dryRun) await this.d.lifecycle.checkMinute(this, table.id);
  }

  /** `POST .../import/` with an upload: its content checked cheaply (type, header, first row), then stored for the job. */
  fromUpload(userId: number, tableId: string, file: UploadedFile | undefined, fields: ImportFields): Promise<JobCreatedResponse> {
    return this.d.lifecycle.create(this, userId, () => this.planUpload(userId, tableId, file, fields));
  }

  /** `POST /table/import/` with an upload: table `name` made with the schema inferred from the file's first rows, then the import. */
  newTableFromUpload(userId: number, name: string, file: UploadedFile | undefined, fields: ImportFields): Promise<Created> {
    return this.d.lifecycle.create(this, userId, async () => {
      if (!file) throw new InvalidParameterError('file', 'Send the file as the multipart/form-data field "file".');
      const { fileOpts } = fields;
      if (fileOpts.csvHeader === false && !fileOpts.columns) {
        throw new InvalidParameterError('columns', 'Without a header line, name the columns in "columns" (comma-separated).');
      }
      const { limits } = this.d;
      const head = await sniffForInference(file.path, { ...fileOpts, limits });
      const sample = await sampleFile(file.path, head.format, head.gzip ?? false, { ...headOptions(fileOpts, head), limits });
      const schema = { fields: inferSchema(mappedSample(sample, fileOpts.mapping), limits) };
      // The delimiter and encoding found by the sniff are the file's: the import reads it with the same.
      const found = { ...fields, fileOpts: { ...headOptions(fileOpts, head), csvDelimiter: fileOpts.csvDelimiter ?? head.csvDelimiter } };
      if (found.fileOpts.csvDelimiter === undefined) delete found.fileOpts.csvDelimiter;
      return this.withNewTable(userId, name, schema, (tableId) => this.planUpload(userId, tableId, file, found, schema));
    });
  }

  /**
   * `POST /table/import/` with `sheets=all` and an xlsx workbook: one table per sheet that holds
   * rows, named `NAME_<sheet>`, each with the schema inferred from its own sheet, and one job that
   * imports every sheet into its table in one transaction: all the rows of all the sheets, or none.
   */
  newTablesFromWorkbook(userId: number, name: string, file: UploadedFile | undefined, fields: ImportFields): Promise<Created> {
    return this.d.lifecycle.create(this, userId, async () => {
      if (!file) throw new InvalidParameterError('file', 'Send the file as the multipart/form-data field "file".');
      const { fileOpts } = fields;
      if (fileOpts.sheet !== undefined) throw new InvalidParameterError('sheet', 'Give "sheet" (one sheet) or sheets=all, not both.');
      const head = await sniffForInference(file.path, fileOpts);
      const shape = formatOf(head.format)?.import;
      if (head.format !== 'xlsx' || head.gzip || shape?.kind !== 'rows' || !shape.sheets) {
        throw new InvalidParameterError(
          'sheets',
          `sheets=all makes one table per sheet of an xlsx workbook; this file is ${head.gzip ? 'gzip-compressed (send the workbook as it is)' : head.format.toUpperCase()}.`,
        );
      }
      const plans = await workbookTables(file.path, name, await shape.sheets(file.path), fileOpts);
      const created: Array<{ id: number; name: string }> = [];
      const dropAll = async () => {
        for (const t of created) await this.d.tables.delete(userId, String(t.id)).catch(() => undefined);
      };
      try {
        for (const p of plans) created.push(await this.d.tables.create(userId, { name: p.name, schema: p.schema }));
        const first = plans[0] as (typeof plans)[number];
        const firstTable = created[0] as { id: number; name: string };
        const plan = await this.planUpload(userId, String(firstTable.id), file, {
          ...fields,
          fileOpts: { ...fileOpts, sheet: first.sheet },
        });
        const params = plan.row.params as ImportParams;
        delete params.sheet;
        params.sheet_tables = created.map((t, i) => ({
          sheet: (plans[i] as (typeof plans)[number]).sheet,
          table_id: t.id,
          table_name: t.name,
        }));
        return {
          ...plan,
          row: { ...plan.row, table_name: name },
          undo: dropAll,
          reply: { table_id: firstTable.id, tables: params.sheet_tables },
        };
      } catch (err) {
        await dropAll();
        throw err;
      }
    });
  }

  /**
   * `POST .../import/` with a location (`source`, or MinApp's `dataFileUrl`): the URL and connection
   * are checked now and sealed into the job row; the job reads the object, or every object under a
   * folder, when it runs.
   */
  fromSource(userId: number, tableId: string, req: SourceImportRequest): Promise<JobCreatedResponse> {
    return this.d.lifecycle.create(this, userId, (jobId) => this.planSource(userId, tableId, req, jobId));
  }

  /**
   * CnosDB's `auto_infer_schema` (and `POST /table/import/` with a JSON body): the first file of the
   * source is fetched now, table `name` made with the schema inferred from its first rows, and the
   * import planned as `fromSource` does.
   */
  newTableFromSource(userId: number, name: string, req: SourceImportRequest): Promise<Created> {
    return this.d.lifecycle.create(this, userId, async (jobId) => {
      const { fileOpts } = req.fields;
      if (fileOpts.csvHeader === false && !fileOpts.columns) {
        throw new InvalidParameterError('columns', 'Without a header line, name the columns (a column list after the table name).');
      }
      const { limits } = this.d;
      const sample = await this.d.locations.sampleFirst(req.url, req.connection, this.d.config.uploadMaxBytes, async (path) => {
        const head = await sniffForInference(path, { ...fileOpts, limits });
        return sampleFile(path, head.format, head.gzip ?? false, { ...headOptions(fileOpts, head), limits });
      });
      const schema = { fields: inferSchema(mappedSample(sample, fileOpts.mapping), limits) };
      return this.withNewTable(userId, name, schema, (tableId) => this.planSource(userId, tableId, req, jobId, schema));
    });
  }

  /**
   * A new import with a failed or cancelled one's parameters and its kept upload, which moves to the
   * new job once it is born (a second retry of the old job then answers `upload_gone`).
   */
  async retry(old: JobRecord): Promise<JobPlan> {
    if (old.table_id === null) throw new AppError('table_deleted', 410, 'The import has no table.');
    const table = await this.d.tables.require(old.user_id, old.table_id);
    const kept = old.upload_key;
    if (!kept || !(await this.d.storage.stat(kept))) throw new UploadGoneError(old.id);
    const params = { ...(old.params as ImportParams) };
    return {
      // As for a new request: a dry run writes nothing and does not use the table's minute.
      minute: params.dry_run ? null : table.id,
      row: { table_id: table.id, table_name: table.name, params, file_type: old.file_type, file_name: old.file_name },
      attach: async (jobId) => {
        const key = importFileKey(jobId, kept.split('/').pop() ?? 'upload');
        await this.d.storage.put(key, await this.d.storage.get(kept));
        return key;
      },
      born: () => this.d.lifecycle.forgetUpload(old.id).catch(() => undefined),
    };
  }

  private async planUpload(
    userId: number,
    tableId: string,
    file: UploadedFile | undefined,
    f: ImportFields,
    inferred?: TableSchema,
  ): Promise<JobPlan> {
    const table = await this.d.tables.require(userId, tableId);
    if (!file) throw new InvalidParameterError('file', 'Send the file as the multipart/form-data field "file".');
    const { fileOpts } = f;
    checkMapping(fileOpts.mapping, table.schema.fields);
    checkConflictKey(f.conflictKey, table.schema.fields);
    const sniff = await sniffUpload(file.path, {
      ...fileOpts,
      fields: sniffFields(table.schema.fields, fileOpts.mapping),
      limits: this.d.limits,
    });
    // A damaged Parquet file is refused here (400) rather than by its job; a gzip one by its job.
    const shape = formatOf(sniff.format)?.import;
    if (shape?.kind === 'rows' && shape.check && !sniff.gzip) await shape.check(file.path);
    // A workbook: which sheet is read is settled now, and a doubt refused before the job is born.
    const sheet =
      shape?.kind === 'rows' && shape.sheet && !sniff.gzip
        ? await pickSheet(shape.sheet, file.path, fileOpts, table.schema.fields)
        : fileOpts.sheet;
    const params: ImportParams = { format: sniff.format, original_name: file.originalname || null, size: file.size };
    if (sniff.gzip) params.gzip = true;
    if (sniff.csvDelimiter !== undefined && sniff.csvDelimiter !== ',') params.csv_delimiter = sniff.csvDelimiter;
    // The job says which encoding a text file is read in, UTF-8 included.
    if (shape?.kind === 'bytes') params.encoding = sniff.encoding ?? UTF8;
    const decimal = fileOpts.decimalSeparator ?? sniff.decimalSeparator;
    if (decimal !== undefined && sniff.format === 'csv') params.decimal_separator = decimal;
    if (fileOpts.csvHeader === false) {
      params.csv_header = false;
      if (sniff.columns) params.columns = sniff.columns;
    }
    if (sheet !== undefined && sniff.format === 'xlsx') params.sheet = sheet;
    if (fileOpts.mapping) params.mapping = fileOpts.mapping;
    if (f.onConflict !== 'error') params.on_conflict = f.onConflict;
    if (f.conflictKey) params.conflict_key = f.conflictKey;
    if (f.dryRun) params.dry_run = true;
    if (inferred) params.inferred_schema = inferred;
    if (!f.email) params.email = false;
    return {
      // A dry run writes nothing, so it does not need (or use up) the table's minute.
      minute: f.dryRun ? null : table.id,
      row: { table_id: table.id, table_name: table.name, params, file_type: sniff.format, file_name: file.originalname || null },
      attach: async (jobId) => {
        const key = importFileKey(jobId, `upload.${sniff.format}`);
        await this.d.storage.putFile(key, file.path);
        return key;
      },
    };
  }

  private async planSource(
    userId: number,
    tableId: string,
    req: SourceImportRequest,
    jobId: string,
    inferred?: TableSchema,
  ): Promise<JobPlan> {
    const table = await this.d.tables.require(userId, tableId);
    checkMapping(req.fields.fileOpts.mapping, table.schema.fields);
    checkConflictKey(req.fields.conflictKey, table.schema.fields);
    const location = await this.d.locations.prepare(req.url, req.connection, 'read', jobId);
    return {
      minute: req.fields.dryRun ? null : table.id,
      row: {
        table_id: table.id,
        table_name: table.name,
        params: sourceImportParams(req, inferred ? { inferred_schema: inferred } : {}),
        file_type: req.fileType ?? null,
        file_name: null,
        source_url: location.href,
        location_sealed: location.sealed,
      },
    };
  }

  /** Makes table `name` and plans its import; the table goes again if the job is not born. */
  private async withNewTable(
    userId: number,
    name: string,
    schema: TableSchema,
    plan: (tableId: string) => Promise<JobPlan>,
  ): Promise<JobPlan> {
    const table = await this.d.tables.create(userId, { name, schema });
    const drop = () => this.d.tables.delete(userId, String(table.id));
    try {
      const p = await plan(String(table.id));
      return { ...p, undo: drop, reply: { table_id: table.id } };
    } catch (err) {
      await drop().catch(() => undefined);
      throw err;
    }
  }
}
