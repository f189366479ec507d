/**
 * Requests are parsed at the HTTP edge with the schemas of this folder (the same ones the OpenAPI
 * document is built from); services get typed values and never `unknown`.
 */
import type { z } from 'zod';
import { InvalidParameterError } from '../errors.js';

/** Parses with zod, turning the first issue into `invalid_parameter` naming the parameter's path. */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const [issue] = r.error.issues;
  if (!issue) throw new InvalidParameterError(what, `Invalid parameter "${what}".`);
  const param = pathName(issue.path) || what;
  throw new InvalidParameterError(param, `Invalid parameter "${param}": ${issue.message}.`);
}

export function pathName(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}
