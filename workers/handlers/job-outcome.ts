import { UnrecoverableError, type Job } from 'bullmq';
import { AppError } from '../../src/errors.js';
import { JobName } from '../../src/jobs/job-names.js';
import { ImportRowsError } from '../../src/services/imports.service.js';
import type { JobError } from '../../src/types/api.js';
import type { WorkerContext } from './worker-context.js';

/** What a retry cannot fix: a bad file, bad rows, a deleted table, the row cap. */
export function isPermanent(err: unknown): boolean {
  return err instanceof UnrecoverableError || (err instanceof AppError && err.status < 500);
}

export function toJobErrors(err: unknown): { errors: JobError[]; count: number } {
  if (err instanceof ImportRowsError) {
    const summary: JobError = { error_code: err.code, error_msg: err.message };
    return { errors: [...err.rowErrors, summary], count: err.errorCount };
  }
  if (err instanceof AppError) return { errors: [{ error_code: err.code, error_msg: err.message }], count: 1 };
  const msg = err instanceof Error ? err.message : String(err);
  return { errors: [{ error_code: 'internal_error', error_msg: `The task failed: ${msg}` }], count: 1 };
}

/**
 * Runs a tableport job's work and records how it ended. The outcome mail is its own BullMQ job
 * (deduplicated by id), so an SMTP outage never re-runs the export or import. A failure that a
 * retry can fix is rethrown for BullMQ's backoff; on the last attempt, or when it cannot be
 * fixed, the job is marked failed and the user told.
 */
export async function runTracked(ctx: WorkerContext, bull: Job<{ jobId: string }>, work: () => Promise<unknown>): Promise<void> {
  const { jobId } = bull.data;
  try {
    await work();
  } catch (err) {
    const permanent = isPermanent(err);
    const last = bull.attemptsMade + 1 >= (bull.opts.attempts ?? 1);
    const { errors, count } = toJobErrors(err);
    if (!permanent && !last) {
      ctx.logger.warn({ err, jobId, attempt: bull.attemptsMade + 1 }, 'job attempt failed; it will be retried');
      await ctx.repos.jobs.noteRetry(jobId, errors[0]!);
      throw err;
    }
    ctx.logger.info({ jobId, errors: errors.slice(0, 3), count }, 'job failed');
    await finishFailed(ctx, jobId, errors, count);
    throw permanent && !(err instanceof UnrecoverableError) ? new UnrecoverableError((err as Error).message) : err;
  }
  await afterEnd(ctx, jobId);
}

/** Marks the job failed once and owes the user a mail; safe to call again. */
export async function finishFailed(ctx: WorkerContext, jobId: string, errors: JobError[], count: number): Promise<void> {
  await ctx.repos.jobs.fail(jobId, errors, count);
  await afterEnd(ctx, jobId);
}

/** Whatever the outcome: the upload goes, and the mail is queued (a no-op if it already was). */
async function afterEnd(ctx: WorkerContext, jobId: string): Promise<void> {
  const job = await ctx.repos.jobs.get(jobId, null);
  if (!job || (job.status !== 'succeeded' && job.status !== 'failed')) return;
  if (job.upload_key) {
    await ctx.storage.delete(job.upload_key);
    await ctx.repos.jobs.clearUpload(jobId);
  }
  if (!job.mail_sent_at) await ctx.queues.add(JobName.SendJobMail, { jobId });
}
