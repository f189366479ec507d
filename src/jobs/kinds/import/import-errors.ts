/** The errors an import's rows end it with: bad rows, and duplicate ids. */
import type { StagedDuplicates } from '../../../db/repositories/rows.repository.js';
import type { KeyProblems } from '../../../db/repositories/upsert.repository.js';
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

const showKey = (key: Record<string, unknown>) =>
  Object.entries(key)
    .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
    .join(', ');

/**
 * The rows a `conflict_key` cannot place, as the job's errors: the import writes nothing, so the
 * user can fix the file (or the table) and import again.
 */
export function keyProblemsError(d: KeyProblems, key: readonly string[], labels: ReadonlyArray<string | undefined> = []): ImportRowsError {
  const keyName = key.map((k) => `"${k}"`).join(', ');
  const errors: JobError[] = d.problems.map((p) => {
    const at = `${labels[p.file] ? `${labels[p.file]}: ` : ''}line ${p.line}`;
    switch (p.kind) {
      case 'empty':
        return {
          error_code: 'invalid_row',
          error_msg: `${at}, ${p.field}: is empty, but it is part of conflict_key (${keyName}), which every row needs to find its row`,
          line: p.line,
          field: p.field,
        };
      case 'repeat': {
        const first =
          p.first_file !== p.file ? `${labels[p.first_file] ?? 'an earlier file'}, line ${p.first_line}` : `line ${p.first_line}`;
        return {
          error_code: 'invalid_row',
          error_msg: `${at}: the key ${showKey(p.key)} already appears on ${first}; each key may appear once in an import`,
          line: p.line,
        };
      }
      case 'ambiguous': {
        const ids = p.ids.map((id) => `"${id}"`).join(', ');
        const more = p.matches > p.ids.length ? ` and ${p.matches - p.ids.length} more` : '';
        return {
          error_code: 'invalid_row',
          error_msg: `${at}: the key ${showKey(p.key)} matches ${p.matches} rows of the table (ids ${ids}${more}); conflict_key must identify at most one row, so make those rows' keys unique or choose another key`,
          line: p.line,
        };
      }
      default:
        return {
          error_code: 'invalid_row',
          error_msg: `${at}, id: "${p.id}" is already in the table under another key; remove the id column or fix the key`,
          line: p.line,
          field: 'id',
        };
    }
  });
  const total = Math.max(d.total, errors.length);
  const err = new ImportRowsError(errors, total, total);
  // Like duplicate ids: the list says it all, no error report.
  err.duplicates = true;
  return err;
}
