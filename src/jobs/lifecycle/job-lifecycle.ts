/**
 * The one way a tableport job is born, lives and dies. A kind (export, import, bundle export,
 * bundle import; see ../job-kind.ts) says what its request is and what to do with a claimed job;
 * the lifecycle says how the job is born (its minute taken, its row inserted, queued, all undone
 * if any step fails) and how it is claimed, ended, cleaned up and mailed, so every kind gets the
 * same guarantees:
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
import { randomUUID } from 'node:crypto';
import { dateOf, systemClock, type Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import { isConnectionError, withTransaction, type Pool, type PoolClient } from '../../db/pool.js';
import type { JobRecord, JobsRepository } from '../../db/repositories/jobs.repository.js';
import { JobTimedOutError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { countJobEnd } from '../../metrics/metrics.js';
import type { MinuteStore } from '../../queue/index.js';
import type { WebhookNotifier } from '../../services/webhooks.service.js';
import { jobPrefix, type ServiceStorage } from '../../storage/index.js';
import type { JobCreatedResponse, JobError, JobType } from '../../types/api.js';
import type { JobKind, JobKinds, JobPlan, JobWork } from '../job-kind.js';
import { mailEntry, workEntry } from '../job-names.js';
import type { JobQueues } from '../queues.js';
import {
  JobAbortedError,
  JobBusyError,
  JobEndedElsewhereError,
  UserBusyError,
  isPermanent,
  toJobErrors,
  type AttemptInfo,
  type AttemptOutcome,
} from './job-outcomes.js';

export interface JobLifecycleDeps {
  config: Config;
  pool: Pool;
  jobs: JobsRepository;
  queues: JobQueues;
  /** The per-table (or per-user) minute every job takes at birth. */
  minutes: MinuteStore;
  storage: ServiceStorage;
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
  private kinds: JobKinds | undefined;

  constructor(private readonly d: JobLifecycleDeps) {
    this.clock = d.clock ?? systemClock;
  }

  /** The kinds plug in once they are built (they take the lifecycle's minute checks and births). */
  plug(kinds: JobKinds): void {
    this.kinds = kinds;
  }

  /** The kind of a job type. */
  kindOf<T extends JobType>(type: T): JobKind<T> {
    if (!this.kinds) throw new Error('JobLifecycle: no kinds are plugged in');
    return this.kinds[type] as JobKind<T>;
  }

  /**
   * Refuses at once when the minute `kind` counts for `key` is taken: a request whose upload is
   * large is refused before it is read. Nothing is taken.
   */
  async checkMinute(kind: JobKind, key: number): Promise<void> {
    await this.d.minutes.check(kind.type, key);
  }

  /**
   * A job is born: `plan` checks the request and builds the row (with the new job's id, to which
   * sealed credentials are bound); then the minute is taken, the input stored, the row inserted and
   * the job queued. A request refused at any step leaves nothing behind and its minute free.
   */
  async create(
    kind: JobKind,
    userId: number,
    plan: (jobId: string) => Promise<JobPlan>,
  ): Promise<JobCreatedResponse & Record<string, unknown>> {
    const jobId = randomUUID();
    const p = await plan(jobId);
    try {
      if (p.minute !== null) await this.d.minutes.acquire(kind.type, p.minute, jobId);
      try {
        const uploadKey = p.attach ? await p.attach(jobId) : null;
        await this.d.jobs.insert({ ...p.row, id: jobId, type: kind.type, user_id: userId, upload_key: uploadKey });
        await this.d.queues.add(workEntry(kind, jobId), jobId);
      } catch (err) {
        if (p.minute !== null) await this.d.minutes.release(kind.type, p.minute, jobId).catch(() => undefined);
        await this.d.jobs.delete(jobId).catch(() => undefined);
        await this.removeFolder('import', jobId).catch(() => undefined);
        throw err;
      }
    } catch (err) {
      await p.undo?.().catch(() => undefined);
      throw err;
    }
    await p.born?.(jobId);
    return { status: 'ok', job_id: jobId, ...p.reply };
  }

  /**
   * Claims the job, runs its kind's work (or `work`) inside the claim's transaction, and marks success in that same
   * transaction. Returns the ended job, or null when it had already ended (a re-delivery).
   * Throws JobBusyError when another live attempt holds the claim, UserBusyError when the job's
   * user runs as many jobs as one may, and JobAbortedError, JobEndedElsewhereError or
   * JobTimedOutError when the attempt was stopped.
   */
  async run(jobId: string, work?: JobWork, signal: AbortSignal = new AbortController().signal): Promise<JobRecord | null> {
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
        if (this.kindOf(job.type).folder === 'export') await this.removeFolder('export', jobId);
        if (stop.aborted) throw stop.reason;
        const ctx = { job, db, signal: stop };
        const result = await (work ? work(ctx) : this.kindOf(job.type).run(ctx));
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
      // An abandoned attempt's session may still be busy on the server (a long statement does not
      // notice its client is gone): it is ended now, so the claim is gone before the slot is free
      // and the job's next attempt is not refused as busy.
      if (abandon.signal.aborted && claimPid !== undefined) {
        await this.d.jobs.terminateBackend(claimPid, this.d.config.jobAbortGraceMs).catch(() => false);
      }
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

  /** Runs one attempt of the job (its kind's work) and decides what becomes of it; records the failure when it is the last. */
  async attempt(jobId: string, info: AttemptInfo): Promise<AttemptOutcome> {
    try {
      await this.run(jobId, undefined, info.signal);
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
      .cancel(workEntry(this.kindOf(job.type), job.id), job.id)
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
    const kind = this.kindOf(job.type);
    // A failed or cancelled import keeps its upload for a retry (removed by the cleanup when it
    // expires), when its kind is retried at all.
    if (kind.folder === 'import' && (job.status === 'succeeded' || !kind.keepsUploadForRetry)) {
      await this.removeFolder('import', jobId);
      if (job.upload_key) await this.d.jobs.clearUpload(jobId);
    }
    if (kind.folder === 'export' && job.status !== 'succeeded') await this.removeFolder('export', jobId);
    if (job.status === 'cancelled') return;
    if (!job.mail_sent_at) await this.d.queues.add(mailEntry(jobId), jobId);
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
