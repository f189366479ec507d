import type { PageMeta } from '../types/api.js';

export type { PageQuery } from '../contracts/paging.js';
import type { PageQuery } from '../contracts/paging.js';

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
