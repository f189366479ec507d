/**
 * The fields a query may name: the built-ins and the table's schema, each with the type the
 * compiler checks values against and the SQL type a bound value is cast to.
 */
import type { FieldSchema, FieldType } from '../../types/api.js';
import { COLUMN_TYPES, quoteIdent } from '../table-sql.js';

export interface QueryField {
  name: string;
  type: FieldType;
  /** The column, quoted. */
  column: string;
  /** What a bound text value is cast to for a comparison with the column. */
  cast: string;
  builtin: boolean;
}

const BUILTINS: QueryField[] = [
  // `id` is `text COLLATE "C"`; a bound text value takes the column's collation, so the primary key's index applies.
  { name: 'id', type: 'string', column: 'id', cast: 'text', builtin: true },
  { name: 'created_at', type: 'integer', column: 'created_at', cast: 'bigint', builtin: true },
  { name: 'updated_at', type: 'integer', column: 'updated_at', cast: 'bigint', builtin: true },
  { name: 'created_by', type: 'string', column: 'created_by', cast: 'text', builtin: true },
];

// One lookup per schema array: a records page and an export each compile against one table.
const cache = new WeakMap<readonly FieldSchema[], Map<string, QueryField>>();

/** Field name → field, built-ins included. */
export function queryFields(fields: readonly FieldSchema[]): Map<string, QueryField> {
  let m = cache.get(fields);
  if (!m) {
    m = new Map(BUILTINS.map((b) => [b.name, b]));
    for (const f of fields) {
      m.set(f.name, { name: f.name, type: f.type, column: quoteIdent(f.name), cast: COLUMN_TYPES[f.type], builtin: false });
    }
    cache.set(fields, m);
  }
  return m;
}
