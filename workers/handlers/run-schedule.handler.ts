import { DelayedError, type Job } from 'bullmq';
import type { JobName, JobPayloads } from '../../src/jobs/job-names.js';
import type { RunInfo } from './run-job.handler.js';
import type { WorkerContext } from './worker-context.js';

/**
 * A schedule fired: its BullMQ job scheduler's job (the slot it stands for is BullMQ's
 * `prevMillis`), or a catch-up added at start-up (`data.due`). One run is born per slot; a run due
 * inside its table's minute goes back to the delayed set until the minute ends, without failing.
 */
export async function runSchedule(ctx: WorkerContext, job: Job<JobPayloads[JobName.RunSchedule]>, run: RunInfo): Promise<void> {
  const due = job.data.due ?? (job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp;
  const outcome = await ctx.services.schedules.fire(job.data.scheduleId, due);
  if (outcome.kind !== 'later') return;
  ctx.logger.info({ scheduleId: job.data.scheduleId, waitMs: outcome.ms }, "scheduled run waits for its table's minute");
  await job.moveToDelayed(Date.now() + outcome.ms, run.token);
  throw new DelayedError();
}
