import type { Job } from 'bullmq';
import type { WorkerContext } from './worker-context.js';

/** A failure here (SMTP down) is rethrown: BullMQ retries the mail alone, with backoff. */
export async function sendJobMail(ctx: WorkerContext, job: Job<{ jobId: string }>): Promise<void> {
  await ctx.mail.sendFor(job.data.jobId);
}
