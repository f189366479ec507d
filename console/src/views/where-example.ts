import type { Field, FieldType } from '../api';

/** An example query on a field this table has (the first text or number field), so it can be tried as is. */
export function wherePlaceholder(fields: Field[]): string {
  const pick = (types: FieldType[]) => fields.find((f) => types.includes(f.type));
  const text = pick(['string']);
  if (text) return JSON.stringify({ [text.name]: { $contains: 'a' } });
  const num = pick(['integer', 'number']);
  if (num) return JSON.stringify({ [num.name]: { $gt: 10 } });
  const bool = pick(['boolean']);
  if (bool) return JSON.stringify({ [bool.name]: true });
  return JSON.stringify({ created_at: { $gte: Math.floor(Date.now() / 1000) - 86400 } });
}
