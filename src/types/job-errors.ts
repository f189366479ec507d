/**
 * How a job's errors read wherever they are shown (the CLI, the SDK's failure message, the mail).
 * A row error's `error_msg` is already a whole sentence that says where (`line 3, qty: must be an
 * integer`), so its `line` and `field` are for programs; a shower adds them in front only to a
 * message that does not say them.
 */
import type { JobError } from './api.js';

/** Where an error is (`line 3, qty`), when its message does not say so itself; undefined otherwise. */
export function jobErrorWhere(e: JobError): string | undefined {
  const saysLine = e.line === undefined || e.error_msg.includes(`line ${e.line}`);
  const saysField = e.field === undefined || saysLine || e.error_msg.includes(e.field);
  if (saysLine && saysField) return undefined;
  const where = [e.line !== undefined ? `line ${e.line}` : '', e.field ?? ''].filter(Boolean).join(', ');
  return where || undefined;
}

/**
 * The problems a failed job's errors list, without the summary sentence an import ends the list
 * with ("2 rows of the file are not valid; no row was written."): counted, that line would be one
 * problem too many.
 */
export function jobProblems(errors: readonly JobError[]): readonly JobError[] {
  const rows = errors.filter((e) => e.line !== undefined);
  return rows.length > 0 && rows.length < errors.length ? rows : errors;
}
