import { UnrecoverableError, type Job } from 'bullmq';
import { isPermanentMailError } from '../../src/mail/index.js';
import type { WorkerContext } from './worker-context.js';

/**
 * A failure here (SMTP down) is rethrown: BullMQ retries the mail alone, with backoff. A refusal
 * that a retry cannot change (the server answered 5xx) stops the retries.
 */
export async function sendJobMail(ctx: WorkerContext, job: Job<{ jobId: string }>): Promise<void> {
  try {
    await ctx.mail.sendFor(job.data.jobId);
  } catch (err) {
    ctx.logger.warn({ err, jobId: job.data.jobId, attempt: job.attemptsMade + 1 }, 'job mail not sent');
    if (isPermanentMailError(err)) throw new UnrecoverableError((err as Error).message);
    throw err;
  }
}
