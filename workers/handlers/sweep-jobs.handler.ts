import type { Job } from 'bullmq';
import type { WorkerContext } from './worker-context.js';

/** Repeating job: reconciles job rows with the queue (see JobSweep). */
export async function sweepJobs(ctx: WorkerContext, _job: Job<Record<string, never>>): Promise<void> {
  await ctx.services.sweep.sweep();
}
