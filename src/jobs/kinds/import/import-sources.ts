/**
 * The files an import reads, whatever brought them: one upload in storage, or the object(s) of a
 * location (`source`, MinApp's `dataFileUrl`) fetched to local files when the job runs. The import
 * reads every file of the list in one transaction, so a folder is one all-or-nothing job.
 */
import { rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { SourceImportRequest } from '../../../contracts/imports.js';
import type { ImportParams, JobRecord } from '../../../db/repositories/jobs.repository.js';
import { InvalidFileError, InvalidParameterError } from '../../../errors.js';
import { sniffUpload, type ImportFileOptions, type ImportInputOptions } from '../../../formats/index.js';
import type { ValueLimits } from '../../../formats/values.js';
import type { TaskLocations } from '../../../locations/task-locations.js';
import { BUILTIN_FIELDS, type FieldSchema, type FileType, type JobError } from '../../../types/api.js';
import { ImportRowsError } from './import-errors.js';

/** One file of an import, ready to read (again, for a report or the duplicates' lines). */
export interface ImportFile {
  open: () => Promise<Readable>;
  format: FileType;
  gzip: boolean;
  /** CSV: the delimiter found or given. */
  csvDelimiter?: string;
  /** Text formats: the encoding found or given. */
  encoding?: string;
  /** CSV: the decimal separator found or given. */
  decimalSeparator?: '.' | ',';
  /** Its name inside a source folder; set only when the import reads more than one file. */
  label?: string;
  size: number;
}

/** The job's params for an import from a location (formats are found per file when it runs). */
export function sourceImportParams(req: SourceImportRequest, extra: Pick<ImportParams, 'inferred_schema'> = {}): ImportParams {
  const { fields: f } = req;
  const params: ImportParams = { format: req.fileType ?? 'csv', original_name: null, size: 0 };
  if (!req.fileType) params.detect_format = true;
  if (f.fileOpts.csvDelimiter !== undefined) params.csv_delimiter = f.fileOpts.csvDelimiter;
  if (f.fileOpts.encoding !== undefined) params.encoding = f.fileOpts.encoding;
  if (f.fileOpts.decimalSeparator !== undefined) params.decimal_separator = f.fileOpts.decimalSeparator;
  if (f.fileOpts.sheet !== undefined) params.sheet = f.fileOpts.sheet;
  if (f.fileOpts.csvHeader === false) {
    params.csv_header = false;
    if (f.fileOpts.columns) params.columns = f.fileOpts.columns;
  }
  if (f.fileOpts.mapping) params.mapping = f.fileOpts.mapping;
  if (f.onConflict !== 'error') params.on_conflict = f.onConflict;
  if (f.conflictKey) params.conflict_key = f.conflictKey;
  if (f.dryRun) params.dry_run = true;
  if (!f.email) params.email = false;
  if (extra.inferred_schema) params.inferred_schema = extra.inferred_schema;
  return params;
}

/** The file options a job's params give (what the user said; a file's own delimiter is found). */
export function userFileOptions(params: ImportParams): ImportFileOptions {
  const o: ImportFileOptions = {};
  if (params.csv_delimiter !== undefined) o.csvDelimiter = params.csv_delimiter;
  if (params.csv_header === false) o.csvHeader = false;
  if (params.columns) o.columns = params.columns;
  if (params.encoding !== undefined) o.encoding = params.encoding;
  if (params.decimal_separator !== undefined) o.decimalSeparator = params.decimal_separator;
  if (params.sheet !== undefined) o.sheet = params.sheet;
  if (params.mapping) o.mapping = params.mapping;
  return o;
}

const fieldList = (fields: readonly FieldSchema[]) =>
  [...BUILTIN_FIELDS, ...fields.map((f) => f.name)].map((n) => JSON.stringify(n)).join(', ');

/**
 * Refuses a `mapping` that sends a file column to a name that is not a field of the table, or two
 * file columns to one field; each message names the file column and the field.
 */
export function checkMapping(mapping: Record<string, string | null> | undefined, fields: readonly FieldSchema[]): void {
  if (!mapping) return;
  const known = new Set<string>([...BUILTIN_FIELDS, ...fields.map((f) => f.name)]);
  const filledBy = new Map<string, string>();
  for (const [column, field] of Object.entries(mapping)) {
    if (field === null) continue;
    if (!known.has(field))
      throw new InvalidParameterError(
        'mapping',
        `"mapping" sends the file column ${JSON.stringify(column)} to ${JSON.stringify(field)}, which is not a field of the table; its fields are ${fieldList(fields)}.`,
      );
    const other = filledBy.get(field);
    if (other !== undefined)
      throw new InvalidParameterError(
        'mapping',
        `"mapping" sends both file columns ${JSON.stringify(other)} and ${JSON.stringify(column)} to the field ${JSON.stringify(field)}; a field takes one column.`,
      );
    filledBy.set(field, column);
  }
}

/**
 * Refuses a `conflict_key` naming something that is not a field of the table. Built-in fields
 * other than `id` are not keys: `created_by` or a time does not say which row a line is.
 */
export function checkConflictKey(key: readonly string[] | undefined, fields: readonly FieldSchema[]): void {
  if (!key) return;
  const names = new Set(fields.map((f) => f.name));
  for (const k of key) {
    if (names.has(k)) continue;
    const why = (BUILTIN_FIELDS as readonly string[]).includes(k)
      ? `the built-in field ${JSON.stringify(k)} cannot be a key (use "id" alone, the default, or fields of the table)`
      : `${JSON.stringify(k)} is not a field of the table`;
    throw new InvalidParameterError(
      'conflict_key',
      `"conflict_key": ${why}; its fields are ${fields.map((f) => JSON.stringify(f.name)).join(', ')}.`,
    );
  }
}

/**
 * The fields a file's first look (sniff) checks its columns against: the table's, and the file
 * columns `mapping` names (renamed or dropped when the rows are read).
 */
export function sniffFields(fields: readonly FieldSchema[], mapping: Record<string, string | null> | undefined): FieldSchema[] {
  if (!mapping) return [...fields];
  const known = new Set(fields.map((f) => f.name));
  const extra = Object.keys(mapping)
    .filter((c) => !known.has(c))
    .map((name): FieldSchema => ({ name, type: 'string' }));
  return [...fields, ...extra];
}

/**
 * Worker: fetches the job's source into a temp folder (capped at `maxBytes` in all) and checks each
 * file as an upload is checked. `cleanup` removes the folder; call it however the import ends.
 * `signal` (the job's) stops the fetch at once.
 */
export async function fetchSourceFiles(
  locations: TaskLocations,
  job: JobRecord,
  fields: readonly FieldSchema[],
  maxBytes: number,
  limits: ValueLimits,
  signal?: AbortSignal,
): Promise<{ files: ImportFile[]; cleanup: () => Promise<void> }> {
  const params = job.params as ImportParams;
  const dir = join(tmpdir(), `tableport-source-${job.id}`);
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const all = await locations.fetch(job.location_sealed ?? '', job.id, dir, maxBytes, signal);
    // A folder's 0-byte objects (Spark's _SUCCESS, a store console's folder marker) hold no rows and
    // are passed over; an empty object named alone, or a folder of nothing else, is refused below.
    const nonEmpty = all.filter((f) => f.size > 0);
    const fetched = nonEmpty.length > 0 ? nonEmpty : all;
    const many = fetched.length > 1;
    const files: ImportFile[] = [];
    for (const f of fetched) {
      const named = (err: unknown) =>
        many && err instanceof InvalidFileError ? new InvalidFileError(`${f.name}: ${err.message}`, err.details) : err;
      let sniff: Awaited<ReturnType<typeof sniffUpload>>;
      try {
        sniff = await sniffUpload(f.path, { ...userFileOptions(params), fields: sniffFields(fields, params.mapping), limits });
      } catch (err) {
        throw named(err);
      }
      if (!params.detect_format && sniff.format !== params.format) {
        throw named(
          new InvalidFileError(
            `The file's content is ${sniff.format.toUpperCase()}, not the ${params.format.toUpperCase()} named by file_type.`,
          ),
        );
      }
      files.push({
        open: async () => createReadStream(f.path),
        format: sniff.format,
        gzip: sniff.gzip ?? false,
        ...(sniff.csvDelimiter !== undefined ? { csvDelimiter: sniff.csvDelimiter } : {}),
        ...(sniff.encoding !== undefined ? { encoding: sniff.encoding } : {}),
        ...(sniff.decimalSeparator !== undefined ? { decimalSeparator: sniff.decimalSeparator } : {}),
        ...(many ? { label: f.name } : {}),
        size: f.size,
      });
    }
    return { files, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** One file of a staged import and its reader options (given the rows staged before it). */
export interface StageSource {
  file: ImportFile;
  options: (rowsSoFar: number) => ImportInputOptions;
}

/** Throws the rows a file's encoder refused, naming the file when the import reads several. */
export function rowErrorsOf(encoder: { errorCount: number; errors: JobError[]; badRows: number }, label: string | undefined): void {
  if (encoder.errorCount === 0) return;
  const errors = label ? encoder.errors.map((e) => ({ ...e, error_msg: `${label}: ${e.error_msg}` })) : encoder.errors;
  throw new ImportRowsError(errors, encoder.errorCount, encoder.badRows);
}
