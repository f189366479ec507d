/** The errors an import's rows end it with: bad rows, and duplicate ids. */
import type { StagedDuplicates } from '../../../db/repositories/rows.repository.js';
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
