/**
 * The one row a statement always returns (`INSERT ... RETURNING`, `SELECT count(*)`). Its absence is a
 * bug or a broken database, not a user mistake: a plain Error, which the error handler answers as a 500.
 */
export function singleRow<T>(rows: readonly T[], statement: string): T {
  const row = rows[0];
  if (row === undefined) throw new Error(`${statement} returned no row.`);
  return row;
}
