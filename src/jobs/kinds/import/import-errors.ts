/** The errors an import's rows end it with: bad rows, and duplicate ids. */
import { AppError } from '../../../errors.js';
import type { JobError } from '../../../types/api.js';

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

/** Every duplicated id with its line, as the job's errors (no error report: the list says it all). */
export function duplicatesError(d: {
  total: number;
  rows: Array<{ id: string; line: number; first_line: number; existing: boolean }>;
}): ImportRowsError {
  const errors: JobError[] = d.rows.map((r) => ({
    error_code: 'invalid_row',
    error_msg: r.existing
      ? `line ${r.line}, id: "${r.id}" is already in the table`
      : `line ${r.line}, id: "${r.id}" already appears on line ${r.first_line} of the file`,
    line: r.line,
    field: 'id',
  }));
  const err = new ImportRowsError(errors, Math.max(d.total, errors.length), Math.max(d.total, errors.length));
  err.duplicates = true;
  return err;
}
