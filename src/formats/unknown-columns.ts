/**
 * The refusal of a file whose columns (a CSV header, a JSON object's keys) are not fields of the
 * table, said the same way whichever check finds it (the look before the job, the job itself, an
 * upload or a location): which columns, and the fields the table has, so the user can rename them.
 */
import { InvalidFileError } from '../errors.js';
import { BUILTIN_FIELDS, type FieldSchema } from '../types/api.js';

/** Past this many, the list of the table's fields is cut (the schema is in `GET /table/:id/`). */
const FIELDS_LISTED = 30;

/** "The table's fields are title, qty (and the built-in id, created_at, updated_at, created_by)". */
export function tableFieldsSentence(fields: readonly Pick<FieldSchema, 'name'>[]): string {
  const names = fields.map((f) => f.name);
  const shown = names.slice(0, FIELDS_LISTED).join(', ');
  const more = names.length > FIELDS_LISTED ? ` and ${names.length - FIELDS_LISTED} more` : '';
  const builtins = `the built-in ${BUILTIN_FIELDS.join(', ')}`;
  return names.length ? `The table's fields are ${shown}${more} (and ${builtins})` : `The table has no fields besides ${builtins}`;
}

/**
 * `what` names where the columns are: "The CSV header", "line 1: the first object". `line`, when
 * known, goes to the error's details.
 */
export function unknownColumnsError(
  what: string,
  unknown: readonly string[],
  fields: readonly Pick<FieldSchema, 'name'>[],
  line?: number,
  /** The import has a `mapping`: the error says it can name the columns too. */
  mapped = false,
): InvalidFileError {
  const one = unknown.length === 1;
  const kind = what.endsWith('object') ? (one ? 'a key' : 'keys') : one ? 'a column' : 'columns';
  return new InvalidFileError(
    `${what} names ${kind} that ${one ? 'is not a field' : 'are not fields'} of the table: ${unknown.map((n) => JSON.stringify(n)).join(', ')}. ` +
      `${tableFieldsSentence(fields)}; rename ${one ? 'it' : 'them'} in the file to match` +
      (mapped ? `, or name ${one ? 'it' : 'them'} in "mapping" (with a field to fill, or null to drop ${one ? 'it' : 'them'}).` : '.'),
    { ...(line !== undefined ? { line } : {}), columns: [...unknown] },
  );
}
