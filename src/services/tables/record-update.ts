/**
 * A `PUT .../record/:id/` body compiled to the assignments of one UPDATE. Plain values and the
 * operands of MinApp's atomic operators are validated by the insert path's own encoder
 * (`encodeJsonRow`), so a value is accepted or refused the same way whichever call sends it.
 */
import type { RecordChanges } from '../../contracts/records.js';
import { InvalidParameterError } from '../../errors.js';
import { COPY_NULL } from '../../formats/copy-text.js';
import { encodeJsonRow } from '../../formats/index.js';
import type { ValueLimits } from '../../formats/values.js';
import { BUILTIN_COUNT } from '../../formats/row-plan.js';
import { COLUMN_TYPES, quoteIdent } from '../../db/table-sql.js';
import { BUILTIN_FIELDS, type FieldSchema, type FieldType } from '../../types/api.js';

export const UPDATE_OPERATORS = ['$incr_by', '$append', '$append_unique', '$remove'] as const;
type UpdateOperator = (typeof UPDATE_OPERATORS)[number];

const APPLIES: Record<UpdateOperator, readonly FieldType[]> = {
  $incr_by: ['integer', 'number'],
  $append: ['array'],
  $append_unique: ['array'],
  $remove: ['array'],
};

const BUILTINS = new Set<string>(BUILTIN_FIELDS);
const NO_DEFAULTS = { createdAt: 0, createdBy: '', newId: () => 'x' };

export interface CompiledUpdate {
  /** `col = expr` assignments; their values bind from `$3` on. */
  sets: string[];
  /** Conditions the updated row must meet (an `$incr_by` must stay within ±2^53−1, as inserts do). */
  guards: string[];
  values: Array<string | null>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{"$incr_by": 1}`-style: one key, an update operator. */
function operatorOf(v: unknown): UpdateOperator | undefined {
  if (!isPlainObject(v)) return undefined;
  const keys = Object.keys(v);
  const op = keys[0];
  if (keys.length !== 1 || op === undefined || !op.startsWith('$')) return undefined;
  if (!(UPDATE_OPERATORS as readonly string[]).includes(op)) {
    throw new InvalidParameterError(op, `"${op}" is not an update operator; use one of ${UPDATE_OPERATORS.join(' ')}.`);
  }
  return op as UpdateOperator;
}

/** COPY text (as the encoder writes it) back to the value it stands for. */
function fromCopyText(piece: string): string | null {
  if (piece === COPY_NULL) return null;
  return piece.replace(/\\([\\nrt])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : '\\'));
}

export function compileUpdate(fields: FieldSchema[], body: RecordChanges, limits?: ValueLimits): CompiledUpdate {
  if (!isPlainObject(body)) throw new InvalidParameterError('body', 'Send an object of the fields to change.');
  const keys = Object.keys(body);
  if (keys.length === 0) throw new InvalidParameterError('body', 'Send at least one field to change.');
  const index = new Map(fields.map((f, i) => [f.name, i]));
  const byName = new Map(fields.map((f) => [f.name, f]));
  const probe: Record<string, unknown> = {};
  const ops = new Map<string, UpdateOperator | 'set'>();
  for (const key of keys) {
    if (BUILTINS.has(key)) throw new InvalidParameterError(key, `"${key}" is a built-in field and cannot be changed.`);
    const at = index.get(key);
    const f = at === undefined ? undefined : fields[at];
    if (f === undefined) throw new InvalidParameterError(key, `"${key}" is not a field of the table.`);
    const v = body[key];
    const op = f.type === 'object' && isPlainObject(v) && !Object.keys(v)[0]?.startsWith('$') ? undefined : operatorOf(v);
    if (op === undefined) {
      probe[key] = v;
      ops.set(key, 'set');
      continue;
    }
    if (!APPLIES[op].includes(f.type))
      throw new InvalidParameterError(
        key,
        `"${op}" does not apply to the ${f.type} field "${key}"; it takes ${APPLIES[op].join(' or ')} fields.`,
      );
    const operand = (v as Record<string, unknown>)[op];
    if (operand === null || operand === undefined) throw new InvalidParameterError(key, `"${key}.${op}" needs a value.`);
    // MinApp sends a list; a single value is taken as a list of one.
    probe[key] = f.type === 'array' && !Array.isArray(operand) ? [operand] : operand;
    ops.set(key, op);
  }

  const r = encodeJsonRow(probe, { fields, defaults: NO_DEFAULTS, ...(limits ? { limits } : {}) });
  if (!r.ok) {
    const e = r.errors[0];
    throw new InvalidParameterError(e?.field ?? 'body', e?.message ?? 'The row is not valid.');
  }
  const pieces = r.line.slice(0, -1).split('\t');
  const sets: string[] = [];
  const guards: string[] = [];
  const values: Array<string | null> = [];
  for (const [key, op] of ops) {
    const at = index.get(key) ?? -1;
    const f = byName.get(key);
    const piece = pieces[BUILTIN_COUNT + at];
    if (f === undefined || piece === undefined) throw new Error(`no encoded value for field ${key}`);
    values.push(fromCopyText(piece));
    const p = `$${values.length + 2}::${COLUMN_TYPES[f.type]}`;
    const col = quoteIdent(key);
    sets.push(`${col} = ${expression(op, col, p)}`);
    if (op === '$incr_by' && f.type === 'integer') guards.push(`abs(COALESCE(${col}, 0)::numeric + ${p}) <= 9007199254740991`);
  }
  return { sets, guards, values };
}

function expression(op: UpdateOperator | 'set', col: string, p: string): string {
  switch (op) {
    case 'set':
      return p;
    case '$incr_by':
      return `COALESCE(${col}, 0) + ${p}`;
    case '$append':
      return `COALESCE(${col}, '[]'::jsonb) || ${p}`;
    case '$append_unique':
      // New elements only, each once, in the order given.
      return `COALESCE(${col}, '[]'::jsonb) || COALESCE((SELECT jsonb_agg(e ORDER BY i) FROM (
        SELECT DISTINCT ON (a.e) a.e, a.i FROM jsonb_array_elements(${p}) WITH ORDINALITY a(e, i) ORDER BY a.e, a.i) d
        WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(${col}, '[]'::jsonb)) c WHERE c = d.e)), '[]'::jsonb)`;
    case '$remove':
      return `CASE WHEN ${col} IS NULL THEN NULL ELSE (SELECT COALESCE(jsonb_agg(a.e ORDER BY a.i), '[]'::jsonb)
        FROM jsonb_array_elements(${col}) WITH ORDINALITY a(e, i)
        WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(${p}) r WHERE r = a.e)) END`;
  }
}
