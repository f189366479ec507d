// Hash routes (#/tables, #/table/12, #/jobs, #/jobs/<id>, #/schedules, #/schedules/<id>): the static server needs no rewrite
// rules and the token never appears in any of them.
import { signal } from './signal';
import type { Msg } from './ui';

export interface Route {
  page: 'tables' | 'table' | 'jobs' | 'schedules';
  /** A table's id, the job whose details are open beside the jobs table, or the schedule whose runs are shown. */
  id?: string;
}

function parse(hash: string): Route {
  const [, page, id] = hash.replace(/^#/, '').split('/');
  if (page === 'jobs') return id ? { page: 'jobs', id } : { page: 'jobs' };
  if (page === 'schedules') return id ? { page: 'schedules', id } : { page: 'schedules' };
  if (page === 'table' && id) return { page: 'table', id };
  return { page: 'tables' };
}

export const route = signal<Route>(parse(location.hash));
window.addEventListener('hashchange', () => route.set(parse(location.hash)));

export function go(hash: string): void {
  if (location.hash === hash) route.set(parse(hash));
  else location.hash = hash;
}

/** News to show on the next page (e.g. "export queued as job …"), read once; words chosen at render time. */
let flash: Msg | null = null;
export function setFlash(m: Msg): void {
  flash = m;
}
export function takeFlash(): Msg | null {
  const f = flash;
  flash = null;
  return f;
}
