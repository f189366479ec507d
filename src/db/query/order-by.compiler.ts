/**
 * MinApp's `order_by`: field names, `-` for descending, compiled to an ORDER BY list of quoted
 * columns. Ties are always broken by `id` so pages and exports are stable.
 */
import { InvalidParameterError } from '../../errors.js';
import type { FieldSchema, FieldType } from '../../types/api.js';
import { queryFields } from './query-fields.js';

const SORTABLE: ReadonlySet<FieldType> = new Set(['boolean', 'date', 'integer', 'number', 'string']);
export const MAX_ORDER_KEYS = 10;

/** Reads `order_by` from a query string: comma-separated keys. */
export function parseOrderByText(v: unknown, param = 'order_by'): string[] | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new InvalidParameterError(param, `"${param}" must be given once, e.g. "-created_at,title".`);
  return v.split(',').map((k) => k.trim());
}

/**
 * `keys` (or `dflt` when there are none) as an ORDER BY list, without the keywords. The tie-break
 * on `id` runs in the direction of the last key, so `-created_at` means newest first, then `-id`.
 */
export function compileOrderBy(
  keys: readonly string[] | undefined,
  fields: readonly FieldSchema[],
  dflt: readonly string[],
  param = 'order_by',
): string {
  const list = keys?.length ? keys : dflt;
  if (list.length > MAX_ORDER_KEYS) throw new InvalidParameterError(param, `"${param}" takes at most ${MAX_ORDER_KEYS} fields.`);
  const byName = queryFields(fields);
  const seen = new Set<string>();
  const parts: string[] = [];
  let desc = false;
  for (const key of list) {
    if (typeof key !== 'string') throw new InvalidParameterError(param, `"${param}" must list field names.`);
    desc = key.startsWith('-');
    const name = desc ? key.slice(1) : key;
    const f = byName.get(name);
    if (!f) throw new InvalidParameterError(param, `"${param}": "${name}" is not a field of the table.`);
    if (!SORTABLE.has(f.type))
      throw new InvalidParameterError(
        param,
        `"${param}": "${name}" is an ${f.type} field; only boolean, date, integer, number and string fields sort.`,
      );
    if (seen.has(name)) throw new InvalidParameterError(param, `"${param}": "${name}" is named twice.`);
    seen.add(name);
    parts.push(`${f.column} ${desc ? 'DESC' : 'ASC'}`);
  }
  if (!seen.has('id')) parts.push(`id ${desc ? 'DESC' : 'ASC'}`);
  return parts.join(', ');
}
