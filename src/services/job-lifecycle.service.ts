/**
 * The one way a tableport job lives and dies. A handler (export, import, and later bundle,
 * COPY INTO, migration) says what to do with a claimed job; the lifecycle says how the job is
 * claimed, ended, cleaned up and mailed, so every job type gets the same guarantees:
 *
 * - one attempt at a time: the claim is held in a transaction for the whole attempt, and a second
 *   attempt (BullMQ re-running a job whose lock lapsed while the first is only paused or cut off
 *   from Redis) is refused before it writes anything;
 * - ended once: `succeed` and `fail` check that they changed the row, and a `succeed` that did not
 *   rolls back the attempt's transaction (an import's rows with it);
 * - nothing left behind: the job's folders go when it ends, a failed export's partial files too;
 *   a failed or cancelled import keeps its upload for a retry, until the cleanup's expiry;
 * - one mail, queued as its own job, never by re-running the work (none for a cancelled job:
 *   its user asked for the end and has the API's answer already);
 * - cancellable: a queued job is never claimed once cancelled, a running one is aborted through the
 *   same signal a shutdown uses, and rolls back;
 * - bounded: a running attempt writes a heartbeat that also brings it the news of a cancel, it is
 *   stopped past JOB_TIMEOUT_SECONDS, and work that does not stop within JOB_ABORT_GRACE_MS of
 *   being told loses its claim's connection and its slot regardless;
 * - never held by the dead: an attempt whose heartbeat stopped (a paused or hung process) is
 *   fenced off by the next attempt, which ends its database session (its transaction rolls back);
 * - fair: one user runs at most USER_MAX_RUNNING_JOBS jobs at once; the others wait their turn.
 */
import { dateOf, systemClock, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import { isConnectionError, withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { JobRecord, JobsRepository } from '../db/repositories/jobs.repository.js';
import { AppError, JobTimedOutError } from '../errors.js';
import { JobName } from '../jobs/job-names.js';
import type { JobQueues } from '../jobs/queues.js';
import type { Logger } from '../logger.js';
import { countJobEnd } from '../metrics/metrics.js';
import { jobPrefix, type StorageDriver } from '../storage/index.js';
import type { JobError, JobType } from '../types/api.js';
import type { WebhookNotifier } from './webhooks.service.js';

/** What a handler gets: the claimed job, the claim's transaction, and a signal to stop early. */
export interface JobRunContext {
  job: JobRecord;
  /** The connection holding the claim, inside its transaction. Writes made here commit with the success, or not at all. */
  db: PoolClient;
  /** Aborted by a cancel, a shutdown past its timeout or the job's deadline: stop, and let the transaction roll back. */
  signal: AbortSignal;
}

export interface JobResult {
  rows: number;
  file_key?: string | null;
  file_name?: string | null;
}

export type JobWork = (ctx: JobRunContext) => Promise<JobResult>;

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

export interface JobLifecycleDeps {
  config: Config;
  pool: Pool;
  jobs: JobsRepository;
  queues: JobQueues;
  storage: StorageDriver;
  logger: Logger;
  /** Told when a job succeeds or fails, next to the mail (queues the webhook deliveries). */
  webhooks?: WebhookNotifier;
  clock?: Clock;
}

/** How often a running attempt writes its heartbeat: often enough that a cancel is heard within seconds. */
export function heartbeatMs(config: Pick<Config, 'jobStaleSeconds'>): number {
  return Math.min(5000, Math.max(200, Math.floor((config.jobStaleSeconds * 1000) / 6)));
}

export class JobLifecycle {
  private readonly clock: Clock;

  constructor(private readonly d: JobLifecycleDeps) {
    this.clock = d.clock ?? systemClock;
  }

  /**
   * Claims the job, runs `work` inside the claim's transaction, and marks success in that same
   * transaction. Returns the ended job, or null when it had already ended (a re-delivery).
   * Throws JobBusyError when another live attempt holds the claim, UserBusyError when the job's
   * user runs as many jobs as one may, and JobAbortedError, JobEndedElsewhereError or
   * JobTimedOutError when the attempt was stopped.
   */
  async run(jobId: string, work: JobWork, signal: AbortSignal = new AbortController().signal): Promise<JobRecord | null> {
    // The attempt's own reasons to stop (a cancel heard through the heartbeat, the deadline) beside the worker's.
    const own = new AbortController();
    const stop = AbortSignal.any([signal, own.signal]);
    // Past the grace after a stop, the claim's transaction is abandoned: its connection goes, and with it the claim.
    const abandon = new AbortController();
    let claimPid: number | undefined;
    let beating: NodeJS.Timeout | undefined;
    const attempt = withTransaction(
      this.d.pool,
      async (db) => {
        if (!(await this.claim(db, jobId))) throw new JobBusyError(jobId);
        claimPid = await this.d.jobs.backendPid(db);
        const job = await this.startFor(jobId, claimPid);
        if (!job) return null;
        if (abandon.signal.aborted) throw abandon.signal.reason;
        beating = this.heartbeat(jobId, claimPid, own);
        // Partial files of an earlier attempt that died: nobody else writes here while we hold the claim.
        if (folderOf(job.type) === 'export') await this.removeFolder('export', jobId);
        if (stop.aborted) throw stop.reason;
        const result = await work({ job, db, signal: stop });
        if (stop.aborted) throw stop.reason;
        if (!(await this.d.jobs.succeed(jobId, result, db))) throw new JobEndedElsewhereError(jobId);
        return job;
      },
      { abandon: abandon.signal },
    );
    const grace = this.graceAfter(stop, abandon);
    let ran: JobRecord | null;
    try {
      ran = await attempt;
    } catch (err) {
      // The attempt is over: a row it leaves "running" until its failure is recorded must not hold its user back.
      if (claimPid !== undefined) await this.d.jobs.endHeartbeat(jobId, claimPid).catch(() => undefined);
      throw await this.whyStopped(jobId, err, stop);
    } finally {
      clearInterval(beating);
      grace.cancel();
    }
    if (!ran) {
      // A re-delivery of a job that ended just before its worker died: what it still owes (the mail) is done now.
      await this.afterEnd(jobId);
      return null;
    }
    // Only the attempt that committed the success gets here: the job is counted once, whatever afterEnd meets.
    countJobEnd(await this.d.jobs.get(jobId, null), 'succeeded');
    await this.afterEnd(jobId);
    return this.d.jobs.get(jobId, null);
  }

  /**
   * Once the attempt is told to stop, it has JOB_ABORT_GRACE_MS to do so; then its transaction is
   * abandoned (the connection destroyed, so the claim goes and the work rolls back) and the slot is
   * free. Work that ignores its signal (a store that never answers, a stuck parser) may still hold
   * a socket or a core for a while, but never a job or a worker's slot.
   */
  private graceAfter(stop: AbortSignal, abandon: AbortController): { cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    const onStop = () => {
      timer = setTimeout(() => {
        this.d.logger.error(
          { reason: String((stop.reason as Error | undefined)?.message ?? stop.reason), graceMs: this.d.config.jobAbortGraceMs },
          'a stopped job did not end in time; its transaction is abandoned and its slot freed',
        );
        abandon.abort(stop.reason);
      }, this.d.config.jobAbortGraceMs);
      timer.unref();
    };
    if (stop.aborted) onStop();
    else stop.addEventListener('abort', onStop, { once: true });
    return {
      cancel() {
        clearTimeout(timer);
        stop.removeEventListener('abort', onStop);
      },
    };
  }

  /** What an attempt that threw means: a stop (cancel, shutdown, deadline) is told apart from a failure of the work. */
  private async whyStopped(jobId: string, err: unknown, stop: AbortSignal): Promise<unknown> {
    if (err instanceof JobBusyError || err instanceof UserBusyError) return err;
    if (!stop.aborted) return err;
    if (stop.reason instanceof JobTimedOutError) return stop.reason;
    // Aborted by a cancel (the row says so) or by a shutdown (the job goes back in line).
    const now = await this.d.jobs.get(jobId, null).catch(() => null);
    return now && now.status !== 'running' && now.status !== 'queued' ? new JobEndedElsewhereError(jobId) : new JobAbortedError(jobId);
  }

  /**
   * Takes the job's claim for `db`'s transaction. When another attempt holds it but has stopped
   * living (no heartbeat for JOB_STALE_SECONDS, e.g. its process is paused), its database session
   * is ended first: its transaction rolls back, and it can never commit what it was doing.
   */
  private async claim(db: PoolClient, jobId: string): Promise<boolean> {
    if (await this.d.jobs.tryClaim(db, jobId)) return true;
    const holder = await this.d.jobs.staleClaimHolder(jobId, this.d.config.jobStaleSeconds);
    if (holder === null) return false;
    this.d.logger.warn({ jobId, pid: holder }, 'the attempt holding this job stopped living; ending its session and taking the job over');
    await this.d.jobs.terminateBackend(holder, 5000);
    return this.d.jobs.tryClaim(db, jobId);
  }

  /**
   * Marks the claimed job running, unless its user already runs as many jobs as one may (then
   * UserBusyError: the job waits its turn, no attempt spent). Null when the job already ended.
   * Its own short transaction, so the API shows "running" at once rather than at commit.
   */
  private async startFor(jobId: string, claimPid: number): Promise<JobRecord | null> {
    return withTransaction(this.d.pool, async (c) => {
      const job = await this.d.jobs.get(jobId, null);
      if (!job || (job.status !== 'queued' && job.status !== 'running')) return null;
      const running = await this.d.jobs.runningOfUser(c, job.user_id, jobId, this.d.config.jobStaleSeconds);
      if (running >= this.d.config.userMaxRunningJobs) throw new UserBusyError(jobId);
      return this.d.jobs.start(jobId, claimPid, c);
    });
  }

  /**
   * The attempt's heartbeat: proves it lives (see `claim`), hears that the job was cancelled or
   * ended elsewhere even when no message reaches the worker, and stops the attempt at its deadline.
   */
  private heartbeat(jobId: string, claimPid: number, own: AbortController): NodeJS.Timeout {
    const deadline = this.clock.now() + this.d.config.jobTimeoutSeconds * 1000;
    let busy = false;
    const timer = setInterval(() => {
      if (busy || own.signal.aborted) return;
      if (this.clock.now() >= deadline) return own.abort(new JobTimedOutError(this.d.config.jobTimeoutSeconds));
      busy = true;
      this.d.jobs
        .heartbeat(jobId, claimPid)
        .then((status) => {
          if (status !== null && status !== 'running') own.abort(new JobEndedElsewhereError(jobId));
        })
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, heartbeatMs(this.d.config));
    timer.unref();
    return timer;
  }

  /**
   * Runs one attempt (`execute` is a handler's `run`, which calls `run()` above) and decides what
   * becomes of the job; records the failure when it is the last.
   */
  async attempt(jobId: string, execute: () => Promise<unknown>, info: AttemptInfo): Promise<AttemptOutcome> {
    try {
      await execute();
      return { kind: 'done' };
    } catch (err) {
      return this.settle(jobId, err, info);
    }
  }

  private async settle(jobId: string, err: unknown, info: AttemptInfo): Promise<AttemptOutcome> {
    if (err instanceof JobBusyError) return { kind: 'later', reason: 'busy', error: err };
    if (err instanceof UserBusyError) return { kind: 'later', reason: 'user', error: err };
    if (err instanceof JobAbortedError) {
      await this.d.jobs.requeue(jobId).catch(() => undefined);
      return { kind: 'later', reason: 'shutdown', error: err };
    }
    if (err instanceof JobEndedElsewhereError) {
      // Cancelled (or failed by the sweep) under this attempt: what it wrote meanwhile goes now.
      await this.afterEnd(jobId).catch((e: unknown) => this.d.logger.warn({ err: e, jobId }, 'cleanup after a job ended elsewhere failed'));
      return { kind: 'failed', error: err };
    }
    // Not the job's fault: it waits for the database without spending an attempt.
    if (isConnectionError(err)) return { kind: 'later', reason: 'database', error: err };
    const { errors, count } = toJobErrors(err);
    if (!isPermanent(err) && info.attempt < info.attempts) {
      this.d.logger.warn({ err, jobId, attempt: info.attempt }, 'job attempt failed; it will be retried');
      await this.d.jobs.noteRetry(jobId, errors[0] ?? { error_code: 'internal_error', error_msg: String(err) }).catch(() => undefined);
      return { kind: 'retry', error: err };
    }
    this.d.logger.info({ jobId, errors: errors.slice(0, 3), count }, 'job failed');
    const recorded = await this.fail(jobId, errors, count);
    // A live attempt elsewhere holds the claim: it will end the job; this one just stops.
    if (recorded === 'busy') return { kind: 'later', reason: 'busy', error: err };
    return { kind: 'failed', error: err };
  }

  /**
   * Marks the job failed once, cleans up and queues the mail. Refused ('busy') while another
   * attempt holds the claim, so a live attempt is never declared dead under it.
   */
  async fail(jobId: string, errors: JobError[], count: number): Promise<'failed' | 'ended' | 'busy'> {
    const outcome = await withTransaction(this.d.pool, async (db) => {
      if (!(await this.claim(db, jobId))) return 'busy' as const;
      return (await this.d.jobs.fail(jobId, errors, count, db)) ? ('failed' as const) : ('ended' as const);
    });
    if (outcome === 'busy') return outcome;
    if (outcome === 'failed') countJobEnd(await this.d.jobs.get(jobId, null), 'failed');
    await this.afterEnd(jobId);
    return outcome;
  }

  /**
   * Cancels a queued or running job: the row ends as `cancelled` at once, the queue entry is
   * withdrawn, and a running attempt is told to abort (it rolls back and its partial file goes).
   * Returns the cancelled job, or null when it had already ended.
   */
  async cancel(job: JobRecord): Promise<JobRecord | null> {
    const cancelled = await this.d.jobs.cancel(job.id);
    if (!cancelled) return null;
    countJobEnd(cancelled, 'cancelled');
    // The row is the record: without Redis the queue entry stays, and a running attempt still finds
    // the job ended when it tries to succeed and rolls back; only the early abort is lost.
    await this.d.queues
      .cancel(job.type === 'export' ? JobName.ExportTable : JobName.ImportFile, job.id)
      .catch((err: unknown) =>
        this.d.logger.warn({ err, jobId: job.id }, 'could not tell the workers of a cancel; the job still ends cancelled'),
      );
    await this.afterEnd(job.id);
    return cancelled;
  }

  /** Drops the upload an ended import kept for a retry (the retry has its own copy now). */
  async forgetUpload(jobId: string): Promise<void> {
    await this.removeFolder('import', jobId);
    await this.d.jobs.clearUpload(jobId);
  }

  /** True when a living attempt holds the job's claim right now (a stale holder does not count: the next attempt fences it). */
  async isClaimed(jobId: string): Promise<boolean> {
    const free = await withTransaction(this.d.pool, (db) => this.d.jobs.tryClaim(db, jobId), { rollback: true });
    return !free && (await this.d.jobs.staleClaimHolder(jobId, this.d.config.jobStaleSeconds)) === null;
  }

  /**
   * Whatever the outcome, once the job ended: the upload's folder goes, a failed export's folder
   * goes, and the mail is queued (a no-op when it already is). Safe to call again.
   */
  async afterEnd(jobId: string): Promise<void> {
    const job = await this.d.jobs.get(jobId, null);
    if (!job || job.status === 'queued' || job.status === 'running') return;
    // A failed or cancelled import keeps its upload for a retry (removed by the cleanup when it expires);
    // a bundle import's upload goes whatever the outcome (bundle jobs are not retried by job control).
    if ((job.type === 'import' && job.status === 'succeeded') || job.type === 'bundle_import') {
      await this.removeFolder('import', jobId);
      if (job.upload_key) await this.d.jobs.clearUpload(jobId);
    }
    if (folderOf(job.type) === 'export' && job.status !== 'succeeded') await this.removeFolder('export', jobId);
    if (job.status === 'cancelled') return;
    if (!job.mail_sent_at) await this.d.queues.add(JobName.SendJobMail, { jobId });
    await this.d.webhooks?.enqueueFor(job);
  }

  /**
   * Removes the folders of exports whose links have expired (they can no longer be downloaded), and
   * the uploads failed and cancelled imports kept for a retry, after as long.
   * Returns how many; safe to run from several workers at once.
   */
  async removeExpiredExports(now = dateOf(this.clock)): Promise<number> {
    const before = new Date(now.getTime() - this.d.config.downloadLinkTtlSeconds * 1000);
    let removed = 0;
    for (;;) {
      const batch = await this.d.jobs.keptUploads(before, 500);
      for (const { id } of batch) {
        await this.removeFolder('import', id);
        await this.d.jobs.clearUpload(id);
        removed++;
      }
      if (batch.length < 500) break;
    }
    for (;;) {
      const batch = await this.d.jobs.expiredExportFiles(before, 500);
      for (const { id, file_key } of batch) {
        await this.d.storage.delete(file_key);
        await this.removeFolder('export', id);
        await this.d.jobs.forgetFile(id);
        removed++;
      }
      if (batch.length < 500) return removed;
    }
  }

  private async removeFolder(type: 'export' | 'import', jobId: string): Promise<void> {
    await this.d.storage.deletePrefix?.(jobPrefix(type, jobId));
  }
}

/** Where a job type keeps its files: bundle exports beside exports, bundle uploads beside uploads. */
function folderOf(type: JobType): 'export' | 'import' {
  return type === 'export' || type === 'bundle_export' ? 'export' : 'import';
}
