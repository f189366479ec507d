// Hash routes (#/tables, #/table/12, #/jobs): the static server needs no rewrite rules and the
// token never appears in any of them.
import { signal } from './signal';

export interface Route {
  page: 'tables' | 'table' | 'jobs';
  id?: string;
}

function parse(hash: string): Route {
  const [, page, id] = hash.replace(/^#/, '').split('/');
  if (page === 'jobs') return { page: 'jobs' };
  if (page === 'table' && id) return { page: 'table', id };
  return { page: 'tables' };
}

export const route = signal<Route>(parse(location.hash));
window.addEventListener('hashchange', () => route.set(parse(location.hash)));

export function go(hash: string): void {
  if (location.hash === hash) route.set(parse(hash));
  else location.hash = hash;
}

/** A message to show on the next page (e.g. "export queued as job …"), read once. */
let flash: string | null = null;
export function setFlash(msg: string): void {
  flash = msg;
}
export function takeFlash(): string | null {
  const f = flash;
  flash = null;
  return f;
}
