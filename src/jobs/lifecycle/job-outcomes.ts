/** How an attempt of a job can end, besides succeeding, and how a failure reads in the job's errors. */
import { AppError } from '../../errors.js';
import type { JobError } from '../../types/api.js';

/** Another attempt of the job holds its claim: this one must write nothing and come back later. */
export class JobBusyError extends Error {
  override name = 'JobBusyError';
  constructor(readonly jobId: string) {
    super(`Job ${jobId} is being run by another attempt.`);
  }
}

/** The job ended elsewhere (failed by the sweep, cancelled) while this attempt ran: its work is rolled back. */
export class JobEndedElsewhereError extends Error {
  override name = 'JobEndedElsewhereError';
  constructor(readonly jobId: string) {
    super(`Job ${jobId} ended while this attempt ran; its work was rolled back.`);
  }
}

/** The attempt was stopped by a worker shutdown; the job goes back in line untouched. */
export class JobAbortedError extends Error {
  override name = 'JobAbortedError';
  constructor(readonly jobId: string) {
    super(`Job ${jobId} was handed back: the worker is shutting down.`);
  }
}

/** The job's user already runs as many jobs as one user may: this one waits its turn. */
export class UserBusyError extends Error {
  override name = 'UserBusyError';
  constructor(readonly jobId: string) {
    super(`Job ${jobId} waits: its user runs as many jobs as one user may at once.`);
  }
}

/** Why an attempt may have to come back later without spending an attempt. */
export type LaterReason = 'busy' | 'user' | 'database' | 'shutdown';

/** What the caller (the BullMQ glue) should do after an attempt. */
export type AttemptOutcome =
  | { kind: 'done' }
  /** Another attempt runs the job, its user's turn has not come, the database is away, or the worker stops: try later, no attempt spent. */
  | { kind: 'later'; reason: LaterReason; error: unknown }
  /** A failure a retry may fix: rethrow for BullMQ's backoff. */
  | { kind: 'retry'; error: unknown }
  /** Recorded as failed (or already ended): no more attempts. */
  | { kind: 'failed'; error: unknown };

export interface AttemptInfo {
  /** 1-based number of this attempt. */
  attempt: number;
  attempts: number;
  signal?: AbortSignal;
}

/** What a retry cannot fix: a bad file, bad rows, a deleted table, the row cap. */
export function isPermanent(err: unknown): boolean {
  return (err instanceof AppError && err.status < 500) || (err instanceof Error && err.name === 'UnrecoverableError');
}

/** A failure as the job's `errors` list shows it. */
export function toJobErrors(err: unknown): { errors: JobError[]; count: number } {
  const rows = err as { rowErrors?: JobError[]; errorCount?: number };
  if (err instanceof AppError && Array.isArray(rows.rowErrors) && typeof rows.errorCount === 'number') {
    return { errors: [...rows.rowErrors, { error_code: err.code, error_msg: err.message }], count: rows.errorCount };
  }
  if (err instanceof AppError) return { errors: [{ error_code: err.code, error_msg: err.message }], count: 1 };
  const msg = err instanceof Error ? err.message : String(err);
  return { errors: [{ error_code: 'internal_error', error_msg: `The task failed: ${msg}` }], count: 1 };
}
