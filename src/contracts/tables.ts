/** `POST /table/`: a table's name and schema, and the rules every table (a bundle's too) is held to. */
import { z } from 'zod';
import { InvalidParameterError } from '../errors.js';
import { BUILTIN_FIELDS, FIELD_TYPES, type CreateTableRequest } from '../types/api.js';
import { parseRequest } from './parse.js';

const NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const RESERVED = new Set<string>(BUILTIN_FIELDS);
/** PostgreSQL's system columns exist on every table: a field of that name cannot be created. */
const SYSTEM_COLUMNS = new Set(['tableoid', 'xmin', 'cmin', 'xmax', 'cmax', 'ctid', 'oid']);

/**
 * Why a name that looks like a field name still cannot be one (for a file's column, in schema
 * inference, to say so about the column): the built-in field or PostgreSQL system column it is,
 * compared without case.
 */
export function reservedFieldName(name: string): { builtin: string } | { system: string } | undefined {
  const lower = name.toLowerCase();
  if (RESERVED.has(lower)) return { builtin: lower };
  if (SYSTEM_COLUMNS.has(lower)) return { system: lower };
  return undefined;
}

export const CreateTableSchema = z.object({
  name: z.string().regex(NAME_RE, 'a letter, then up to 63 letters, digits or "_"'),
  schema: z.object({
    fields: z
      .array(
        z.object({
          name: z
            .string()
            .regex(FIELD_RE, 'a letter or "_", then up to 62 letters, digits or "_"')
            .refine((n) => !RESERVED.has(n.toLowerCase()), 'is a built-in field name')
            .refine(
              (n) => !SYSTEM_COLUMNS.has(n.toLowerCase()),
              'is the name of a PostgreSQL system column (tableoid, xmin, cmin, xmax, cmax, ctid, oid)',
            ),
          type: z.enum(FIELD_TYPES),
          description: z.string().max(1000).optional(),
        }),
      )
      .min(1, 'a table needs at least one field')
      .max(500, 'at most 500 fields'),
  }),
});

/**
 * A table's name and schema checked by the rules of `POST /table/` (names, field names and types,
 * no field twice). Bundles check each of their tables with it; `invalid_parameter` names the path.
 */
export function parseTableDefinition(body: unknown): CreateTableRequest {
  const req: CreateTableRequest = parseRequest(CreateTableSchema, body);
  const seen = new Set<string>();
  req.schema.fields.forEach((f, i) => {
    const k = f.name.toLowerCase();
    if (seen.has(k)) throw new InvalidParameterError(`schema.fields[${i}].name`, `The field name "${f.name}" is used twice.`);
    seen.add(k);
  });
  return req;
}

/** Whether `name` may name a table (the rule `POST /table/` checks). */
export function isTableName(name: string): boolean {
  return NAME_RE.test(name);
}
