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
import { InvalidFileError } from '../../../errors.js';
import { sniffUpload, type ImportFileOptions, type ImportInputOptions } from '../../../formats/index.js';
import type { ValueLimits } from '../../../formats/values.js';
import type { TaskLocations } from '../../../locations/task-locations.js';
import type { FieldSchema, FileType, JobError } from '../../../types/api.js';
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
  if (f.onConflict !== 'error') params.on_conflict = f.onConflict;
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
  return o;
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
        sniff = await sniffUpload(f.path, { fields, ...userFileOptions(params), limits });
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
