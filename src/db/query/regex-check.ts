import { InvalidParameterError } from '../../errors.js';

interface Queryable {
  query(sql: string, values: unknown[]): Promise<unknown>;
}

/**
 * Compiles each `$regex` pattern once in PostgreSQL (whose regular expressions differ from
 * JavaScript's), so a bad pattern is a 400 now rather than a 500 half-way through a page or an export.
 */
export async function assertRegexes(db: Queryable, patterns: readonly string[], param = 'where'): Promise<void> {
  if (patterns.length === 0) return;
  try {
    await db.query(`SELECT bool_and('' ~ p) FROM unnest($1::text[]) p`, [patterns]);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    // invalid_regular_expression
    if (e.code === '2201B')
      throw new InvalidParameterError(
        param,
        `Invalid "${param}": a $regex is not a valid regular expression (${e.message ?? 'PostgreSQL refused it'}).`,
      );
    throw err;
  }
}
