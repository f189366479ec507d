/**
 * What an import is told beside its file: the multipart fields (all text, as forms send them),
 * parsed once; and the job errors for duplicate ids.
 */
import { z } from 'zod';
import type { ImportParams } from '../db/repositories/jobs.repository.js';
import type { StagedDuplicates } from '../db/repositories/rows.repository.js';
import { AppError, InvalidParameterError } from '../errors.js';
import type { ImportFileOptions } from '../formats/index.js';
import type { JobError, OnConflict } from '../types/api.js';
import { parseParams } from './validate.js';

/** The import's multipart fields beside the file (all text, as forms send them). */
export const ImportFieldsSchema = z.object({
  csv_delimiter: z
    .string()
    .regex(/^[\x20-\x7e\t]$/, 'must be one printable ASCII character or a tab')
    .refine((c) => c !== '"', 'cannot be a quote (")')
    .optional(),
  csv_header: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  columns: z
    .string()
    .max(16 * 1024)
    .transform((v) => v.split(',').map((c) => c.trim()))
    .refine((cols) => cols.every((c) => c !== ''), 'must be field names separated by commas')
    .optional(),
  on_conflict: z.enum(['error', 'skip', 'update'], { error: 'must be "error", "skip" or "update"' }).optional(),
  dry_run: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  email: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
});

const NEW_TABLE_NAME = 'Send the new table\'s name as the field "name".';

/** `POST /table/import/`: the new table's name beside the import's own fields (the name's rules are the table's). */
export const ImportNewTableFieldsSchema = ImportFieldsSchema.extend({
  name: z.string({ error: NEW_TABLE_NAME }).min(1, NEW_TABLE_NAME),
});

/** The new table's name from the form, or `invalid_parameter` naming "name". */
export function newTableName(body: Record<string, unknown>): string {
  const r = ImportNewTableFieldsSchema.shape.name.safeParse(body.name);
  if (!r.success) throw new InvalidParameterError('name', NEW_TABLE_NAME);
  return r.data;
}

/** The import's rows were refused: the job fails with these errors and nothing is written. */
export class ImportRowsError extends AppError {
  override name = 'ImportRowsError';
  /** The rows were refused for their ids only (no error report: the list says it all). */
  duplicates = false;
  constructor(
    readonly rowErrors: JobError[],
    /** Every problem found (the list holds the first of them). */
    readonly errorCount: number,
    /** Rows with at least one problem. */
    readonly badRows = errorCount,
  ) {
    super(
      'invalid_row',
      400,
      errorCount === badRows
        ? `${badRows} row${badRows === 1 ? '' : 's'} of the file ${badRows === 1 ? 'is' : 'are'} not valid; no row was written.`
        : `${errorCount} problems in ${badRows} row${badRows === 1 ? '' : 's'} of the file; no row was written.`,
    );
  }
}

/** How many duplicate ids an import names before it only counts them. */
export const MAX_DUPLICATES_SHOWN = 100;

export interface ImportFields {
  fileOpts: ImportFileOptions;
  onConflict: OnConflict;
  dryRun: boolean;
  /** Mail the outcome (the default). */
  email: boolean;
}

export function parseImportFields(body: unknown): ImportFields {
  const f = parseParams(ImportFieldsSchema, body ?? {});
  if (f.columns && f.csv_header !== 'false') throw new InvalidParameterError('columns', '"columns" goes with csv_header=false.');
  const fileOpts: ImportFileOptions = {};
  if (f.csv_delimiter !== undefined) fileOpts.csvDelimiter = f.csv_delimiter;
  if (f.csv_header === 'false') fileOpts.csvHeader = false;
  if (f.columns) fileOpts.columns = f.columns;
  return { fileOpts, onConflict: f.on_conflict ?? 'error', dryRun: f.dry_run === 'true', email: f.email !== 'false' };
}

/** The encoder options a queued import's params ask for. */
export function fileOptions(params: ImportParams): ImportFileOptions {
  const o: ImportFileOptions = {};
  if (params.csv_delimiter !== undefined) o.csvDelimiter = params.csv_delimiter;
  if (params.csv_header === false) o.csvHeader = false;
  if (params.columns) o.columns = params.columns;
  return o;
}

export function omit(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = o;
  return rest;
}

export function pick(o: Record<string, unknown>, key: string): Record<string, unknown> {
  return o[key] === undefined ? {} : { [key]: o[key] };
}

/**
 * Every duplicated id with its line, as the job's errors (no error report: the list says it all).
 * `labels`: the names of the import's files, by index, when it reads several (a folder); each
 * error then names its file, as the other row errors of a folder do, and where the id first was.
 */
export function duplicatesError(d: StagedDuplicates, labels: ReadonlyArray<string | undefined> = []): ImportRowsError {
  const errors: JobError[] = d.rows.map((r) => {
    const label = labels[r.file];
    const where = `${label ? `${label}: ` : ''}line ${r.line}, id: "${r.id}"`;
    let why: string;
    if (r.existing) why = 'is already in the table';
    else if (r.first_file !== r.file) why = `already appears in ${labels[r.first_file] ?? 'an earlier file'}, line ${r.first_line}`;
    // A JSON array written on one line has every row on line 1.
    else if (r.first_line === r.line) why = `already appears earlier on line ${r.line}`;
    else why = `already appears on line ${r.first_line} of the file`;
    return { error_code: 'invalid_row', error_msg: `${where} ${why}`, line: r.line, field: 'id' };
  });
  const err = new ImportRowsError(errors, Math.max(d.total, errors.length), Math.max(d.total, errors.length));
  err.duplicates = true;
  return err;
}
