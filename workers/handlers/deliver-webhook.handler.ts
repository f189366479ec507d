import type { Job } from 'bullmq';
import type { WorkerContext } from './worker-context.js';

/**
 * One POST of a job's end to one webhook. A refused or failed delivery is logged and rethrown, so
 * BullMQ tries again with exponential backoff (WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_MS) without ever
 * re-running the job or touching its mail.
 */
export async function deliverWebhook(ctx: WorkerContext, job: Job<{ jobId: string; webhookId: string }>): Promise<void> {
  await ctx.services.webhooks.deliver(job.data.webhookId, job.data.jobId, job.attemptsMade + 1);
}
