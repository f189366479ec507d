/**
 * `GET /jobs/` filters, beside MinApp's `limit` and `offset`: the console's jobs table (and any
 * script) asks the server for one status, type or table instead of paging through everything.
 */
import { z } from 'zod';
import { JOB_TYPES, type JobStatus } from '../types/api.js';
import { PageQuerySchema } from './paging.js';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];

/** `a,b` → `['a', 'b']`, each checked against `values`; empty or absent → undefined (no filter). */
function oneOrMore<T extends string>(values: readonly T[]) {
  return z
    .string({ error: 'must be text' })
    .optional()
    .transform((v, ctx) => {
      const items = (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = items.find((i) => !(values as readonly string[]).includes(i));
      if (bad !== undefined) {
        ctx.addIssue({ code: 'custom', message: `"${bad}" is not one of ${values.join(', ')}` });
        return z.NEVER;
      }
      return items.length ? (items as T[]) : undefined;
    })
    .describe(`one or more of ${values.join(', ')}, comma-separated`);
}

/** The filters alone (the route reads `limit` and `offset` with the other lists' own parser). */
export const JobsFilterSchema = z.object({
  status: oneOrMore(JOB_STATUSES),
  type: oneOrMore(JOB_TYPES),
  table_id: z
    .string({ error: 'must be a table id (an integer)' })
    .regex(/^\d{1,15}$/, 'must be a table id (an integer)')
    .optional()
    .transform((v) => (v === undefined ? undefined : Number(v)))
    .describe("a table's id: only that table's jobs (bundle jobs span tables and are left out)"),
});
export type JobsFilter = z.infer<typeof JobsFilterSchema>;

/** What `GET /jobs/` accepts, for the OpenAPI document. */
export const JobsQuerySchema = PageQuerySchema.extend(JobsFilterSchema.shape);
