import type { PageMeta } from '../types/api.js';
import { InvalidParameterError } from '../errors.js';

export interface PageQuery {
  limit: number;
  offset: number;
}

/** Reads MinApp's `limit` (default 20, at most 1000) and `offset` from a query string. */
export function parsePageQuery(query: Record<string, unknown>, defaults = { limit: 20, max: 1000 }): PageQuery {
  const limit = intParam(query.limit, 'limit', defaults.limit);
  const offset = intParam(query.offset, 'offset', 0);
  if (limit < 1 || limit > defaults.max) throw new InvalidParameterError('limit', `"limit" must be between 1 and ${defaults.max}.`);
  if (offset < 0) throw new InvalidParameterError('offset', '"offset" must be 0 or more.');
  return { limit, offset };
}

/** Larger offsets cannot be held exactly, and no table has that many rows. */
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

function intParam(v: unknown, name: string, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  if (typeof v !== 'string' || !/^-?\d+$/.test(v)) throw new InvalidParameterError(name, `"${name}" must be an integer.`);
  const n = Number(v);
  // Twenty digits would reach PostgreSQL as a bigint it cannot hold: refuse it here, as a client mistake.
  if (!Number.isSafeInteger(n) || n > MAX_OFFSET) throw new InvalidParameterError(name, `"${name}" is out of range.`);
  return n;
}

/** MinApp's meta: `next`/`previous` are the same path with the query of the neighbouring page. */
export function pageMeta(path: string, q: PageQuery, total: number): PageMeta {
  const link = (offset: number) => `${path}?limit=${q.limit}&offset=${offset}`;
  return {
    limit: q.limit,
    offset: q.offset,
    total_count: total,
    next: q.offset + q.limit < total ? link(q.offset + q.limit) : null,
    previous: q.offset > 0 ? link(Math.max(0, q.offset - q.limit)) : null,
  };
}
