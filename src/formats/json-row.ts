/**
 * Rows as JSON objects: the file import's and the records API's shared way in.
 */
import type { FieldSchema } from '../types/api.js';
import { RowPlan, type RowDefaults, type RowProblem } from './row-plan.js';
import { DEFAULT_VALUE_LIMITS, type ValueLimits } from './values.js';

/**
 * Puts an object's values into `slots` by column (clearing the rest). Returns the first key that
 * is not a column, if any.
 */
export function objectToSlots(obj: Record<string, unknown>, index: Map<string, number>, slots: unknown[]): string | undefined {
  slots.fill(undefined);
  for (const key in obj) {
    const at = index.get(key);
    if (at === undefined) return key;
    slots[at] = obj[key];
  }
  return undefined;
}

export interface JsonRowContext {
  fields: readonly FieldSchema[];
  defaults: RowDefaults;
  /** MAX_CELL_BYTES and MAX_JSON_DEPTH; the defaults when omitted. */
  limits?: ValueLimits;
}

export type JsonRowResult =
  | { ok: true /** COPY text line, with its `\n`. */; line: string; id: string; createdAt: number }
  | { ok: false; errors: RowProblem[] };

// One plan per schema array (the API validates a batch of up to 1,000 rows against one table).
const plans = new WeakMap<object, RowPlan>();

/**
 * Validates one row sent as JSON (e.g. to `POST /table/:id/record/`) and encodes it as a COPY text
 * line with the same rules as a file import. Every problem of the row is listed.
 */
export function encodeJsonRow(obj: unknown, ctx: JsonRowContext): JsonRowResult {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return { ok: false, errors: [{ message: 'a row must be a JSON object', reason: 'a row must be a JSON object' }] };
  }
  let plan = plans.get(ctx.fields);
  if (plan === undefined || plan.defaults !== ctx.defaults || plan.limits !== (ctx.limits ?? DEFAULT_VALUE_LIMITS)) {
    plan = new RowPlan(ctx.fields, ctx.defaults, { limits: ctx.limits });
    plans.set(ctx.fields, plan);
  }
  const slots = new Array<unknown>(plan.names.length);
  const unknown: string[] = [];
  for (const key in obj) {
    const at = plan.index.get(key);
    if (at === undefined) unknown.push(key);
    else slots[at] = (obj as Record<string, unknown>)[key];
  }
  const line = plan.encode(slots, false, true);
  const errors: RowProblem[] = unknown.map((key) => ({
    field: key,
    message: `"${key}" is not a field of the table`,
    reason: 'not a field of the table',
  }));
  if (line === undefined || errors.length) return { ok: false, errors: [...errors, ...plan.problems] };
  return { ok: true, line, id: plan.lastId, createdAt: plan.lastCreatedAt };
}
