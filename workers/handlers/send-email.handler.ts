import { UnrecoverableError, type Job } from 'bullmq';
import { isPermanentMailError } from '../../src/mail/index.js';
import type { WorkerContext } from './worker-context.js';

/**
 * A failure here (SMTP down) is rethrown: BullMQ retries the mail alone, with backoff, and never
 * re-runs the export. When the last attempt fails, or the server refuses the mail for good, the
 * mail is written to the outbox instead and the job says so (`mail_status: "outbox"`).
 */
export async function sendJobMail(ctx: WorkerContext, job: Job<{ jobId: string }>): Promise<void> {
  const { jobId } = job.data;
  try {
    await ctx.mail.sendFor(jobId);
  } catch (err) {
    const attempt = job.attemptsMade + 1;
    const last = attempt >= (job.opts.attempts ?? 1);
    const permanent = isPermanentMailError(err);
    ctx.logger.warn({ err, jobId, attempt, last }, 'job mail not sent');
    if (!last && !permanent) throw err;
    if ((await ctx.mail.sendFor(jobId, { via: 'outbox' })) === 'sent') {
      ctx.logger.warn({ jobId }, 'job mail written to the outbox instead');
      return;
    }
    throw permanent ? new UnrecoverableError((err as Error).message) : err;
  }
}
