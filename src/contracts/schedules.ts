/**
 * Schedules: an export (or a bundle export) that runs itself, every so often or at the times of a
 * cron pattern in a time zone, of all rows or only of what changed since its last successful run.
 * Parsed at the HTTP edge; the `export` object is checked with the export's own schema.
 */
import { z } from 'zod';

/** `every`: "90s", "15m", "1h", "1d" (or seconds as a number); at least a minute, the per-table minute. */
export const EVERY = /^(\d{1,7})\s*([smhd])$/;

const every = z.union([
  z.string().trim().regex(EVERY, 'must be a number and a unit: "90s", "15m", "1h" or "1d"'),
  z.number().int('must be whole seconds').positive('must be positive'),
]);
const cron = z
  .string()
  .trim()
  .min(9, 'must be a cron pattern such as "0 3 * * *"')
  .max(200, 'must be at most 200 characters')
  .refine((s) => /^\S+(\s+\S+){4,5}$/.test(s), 'must be a cron pattern of 5 (or 6, with seconds) fields, such as "0 3 * * *"');
const timezone = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as "UTC" or "Asia/Shanghai"');
const mode = z.enum(['all', 'changes'], { error: 'must be "all" or "changes"' });
const exportParams = z.record(z.string(), z.unknown(), { error: 'must be an object of export parameters' });

export const ScheduleCreateSchema = z.object({
  table_id: z
    .union([z.string().min(1).max(40), z.number().int().positive()])
    .transform(String)
    .optional(),
  tables: z.array(z.string().min(1).max(64)).max(1000).optional(),
  every: every.optional(),
  cron: cron.optional(),
  timezone: timezone.optional(),
  mode: mode.optional(),
  export: exportParams.optional(),
});
export type ScheduleCreateRequest = z.infer<typeof ScheduleCreateSchema>;

/** `PATCH /schedules/:id`: any of when, how and what; `every` and `cron` replace each other. */
export const ScheduleUpdateSchema = z.object({
  every: every.optional(),
  cron: cron.optional(),
  timezone: timezone.optional(),
  mode: mode.optional(),
  export: exportParams.optional(),
});
export type ScheduleUpdateRequest = z.infer<typeof ScheduleUpdateSchema>;

/** What the API shows of a schedule (never a credential of its destination). */
export const ScheduleSchema = z.object({
  id: z.string(),
  table_id: z.number().nullable(),
  tables: z.array(z.string()).nullable(),
  every: z.string().nullable(),
  cron: z.string().nullable(),
  timezone: z.string(),
  mode: mode,
  export: z.record(z.string(), z.unknown()),
  paused: z.boolean(),
  watermark_at: z.number().nullable(),
  last_run_at: z.number().nullable(),
  next_run_at: z.number().nullable().describe('when the scheduler fires next (Unix seconds); null while paused'),
  last_job_id: z.string().nullable(),
  last_error: z.object({ error_code: z.string(), error_msg: z.string() }).nullable(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type Schedule = z.infer<typeof ScheduleSchema>;

/** Seconds of an `every`. */
export function everySeconds(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = EVERY.exec(v.trim());
  if (!m) throw new Error(`not an interval: ${v}`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** An interval as the API shows it: the largest unit that divides it. */
export function everyText(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
