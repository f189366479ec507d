import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { AttemptOutcome, LaterReason } from '../../src/jobs/lifecycle/job-outcomes.js';
import type { WorkerContext } from './worker-context.js';

/** What the worker gives each handler besides the job: BullMQ's lock token and the stop signal. */
export interface RunInfo {
  token: string | undefined;
  signal: AbortSignal;
}

// How long a job waits before it is tried again without spending an attempt (a user's turn comes when one of their jobs ends).
const LATER_MS = { busy: 2000, user: 3000, database: 5000, shutdown: 0 } as const satisfies Record<LaterReason, number>;

/**
 * The work of a tableport job of any kind, as one BullMQ attempt: the lifecycle runs it and says
 * what follows, and this maps that onto BullMQ. "Later" moves the job back to the delayed set
 * without counting an attempt (another attempt holds the claim, its user's turn has not come, the
 * database is away, the worker is stopping); a failure a retry may fix is rethrown for the
 * backoff; a recorded failure stops the retries.
 */
export async function runJob(ctx: WorkerContext, bull: Job<{ jobId: string }>, run: RunInfo): Promise<void> {
  const { jobId } = bull.data;
  const outcome: AttemptOutcome = await ctx.services.lifecycle.attempt(jobId, {
    // Runs that crashed (stalled) count too: JOB_ATTEMPTS runs in all, however each one ended.
    attempt: bull.attemptsMade + (bull.stalledCounter ?? 0) + 1,
    attempts: bull.opts.attempts ?? 1,
    signal: run.signal,
  });
  switch (outcome.kind) {
    case 'done':
      return;
    case 'later':
      ctx.logger.info({ jobId, reason: outcome.reason, err: outcome.error }, 'job put back to run later');
      // Without the token (or once the lock is lost) BullMQ refuses; the error then goes to the usual retry path.
      await bull.moveToDelayed(Date.now() + LATER_MS[outcome.reason], run.token);
      throw new DelayedError();
    case 'retry':
      throw outcome.error;
    case 'failed':
      throw outcome.error instanceof UnrecoverableError ? outcome.error : new UnrecoverableError(messageOf(outcome.error));
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
