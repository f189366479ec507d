/** MinApp's paging: `limit` (default 20, at most 1000) and `offset`, from a query string. */
import { z } from 'zod';
import { InvalidParameterError } from '../errors.js';

export interface PageQuery {
  limit: number;
  offset: number;
}

/** Larger offsets cannot be held exactly, and no table has that many rows. */
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

/** An integer in a query string; empty or absent gives `dflt`. */
function intText(name: string, dflt: number, min: number, max: number, rangeMessage: string) {
  // Twenty digits would reach PostgreSQL as a bigint it cannot hold: refuse them here, as a client mistake.
  return z
    .string({ error: `"${name}" must be an integer.` })
    .regex(/^(-?\d+)?$/, `"${name}" must be an integer.`)
    .optional()
    .transform((v) => (v === undefined || v === '' ? dflt : Number(v)))
    .pipe(z.number().refine(Number.isSafeInteger, `"${name}" is out of range.`).min(min, rangeMessage).max(max, rangeMessage))
    .describe(`an integer, default ${dflt}`);
}

/** MinApp's `limit` (default 20, at most `max`) and `offset`: the schema the API validates with and documents. */
export function pageQuerySchema(defaults = { limit: 20, max: 1000 }) {
  return z.object({
    limit: intText('limit', defaults.limit, 1, defaults.max, `"limit" must be between 1 and ${defaults.max}.`),
    offset: intText('offset', 0, 0, MAX_OFFSET, '"offset" must be 0 or more.'),
  });
}

export const PageQuerySchema = pageQuerySchema();

/** Reads MinApp's `limit` (default 20, at most 1000) and `offset` from a query string. */
export function parsePageQuery(query: Record<string, unknown>, defaults?: { limit: number; max: number }): PageQuery {
  const r = (defaults ? pageQuerySchema(defaults) : PageQuerySchema).safeParse({ limit: query.limit, offset: query.offset });
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const name = String(issue?.path[0] ?? 'limit');
  throw new InvalidParameterError(name, issue?.message ?? `"${name}" is not valid.`);
}
