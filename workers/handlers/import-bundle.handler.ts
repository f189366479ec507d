import type { Job } from 'bullmq';
import { runAttempt, type RunInfo } from './job-outcome.js';
import type { WorkerContext } from './worker-context.js';

export async function importBundle(ctx: WorkerContext, job: Job<{ jobId: string }>, run: RunInfo): Promise<void> {
  await runAttempt(ctx, job, run, (signal) => ctx.services.bundles.runImport(job.data.jobId, signal));
}
