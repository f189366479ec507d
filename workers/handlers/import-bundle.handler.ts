import type { Job } from 'bullmq';
import { runTracked } from './job-outcome.js';
import type { WorkerContext } from './worker-context.js';

export async function importBundle(ctx: WorkerContext, job: Job<{ jobId: string }>): Promise<void> {
  await runTracked(ctx, job, () => ctx.services.bundles.runImport(job.data.jobId));
}
