import { defaultRepeatStrategy, type JobsOptions } from 'bullmq';
import type { Config } from '../config.js';
import { ServiceUnavailableError } from '../errors.js';
import type { QueueBackend, QueueHandle } from '../queue/index.js';
import { JobName, QueueName, type JobPayloads, type QueueEntry } from './job-names.js';

export function defaultJobOptions(config: Config, queue: QueueName): JobsOptions {
  const keep = {
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
  if (queue === QueueName.Maintenance) return { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } };
  if (queue === QueueName.Webhook) {
    return { ...keep, attempts: config.webhookAttempts, backoff: { type: 'exponential', delay: config.webhookBackoffMs } };
  }
  if (queue === QueueName.Email) {
    // An SMTP outage only delays the mail: many attempts, growing waits (5 s, 10 s, 20 s, ... by default).
    return { ...keep, attempts: config.mailAttempts, backoff: { type: 'exponential', delay: config.mailBackoffMs } };
  }
  return { ...keep, attempts: config.jobAttempts, backoff: { type: 'exponential', delay: 2000 } };
}

/**
 * tableport's queues on whichever backend runs them: adding a job's work, its mail and its webhook
 * deliveries, withdrawing a cancelled job, and what the sweep needs to reconcile rows with the queue.
 */
export class JobQueues {
  readonly queues: Record<QueueName, QueueHandle>;

  constructor(
    readonly backend: QueueBackend,
    private readonly config: Config,
    /** The API's queues: refuse at once (503) while the backend is away, rather than wait for it. */
    private readonly failFast = false,
  ) {
    const make = (name: QueueName) => backend.queue(name, defaultJobOptions(config, name));
    this.queues = {
      [QueueName.Export]: make(QueueName.Export),
      [QueueName.Import]: make(QueueName.Import),
      [QueueName.Email]: make(QueueName.Email),
      [QueueName.Maintenance]: make(QueueName.Maintenance),
      [QueueName.Webhook]: make(QueueName.Webhook),
    };
  }

  /** Queues one entry of a tableport job (its work, or its mail), carrying the job's id. */
  async add(entry: QueueEntry, jobId: string): Promise<void> {
    if (this.failFast && !this.backend.ready()) throw new ServiceUnavailableError();
    await this.queues[entry.queue].add(entry.name, { jobId }, { jobId: entry.id });
  }

  /**
   * Every worker process upserts the same schedulers: one schedule each, however many workers.
   * Called again whenever a worker reconnects to Redis, which re-creates them after Redis lost them.
   */
  async scheduleMaintenance(cleanupEverySeconds: number, sweepEverySeconds: number = this.config.jobSweepIntervalSeconds): Promise<void> {
    const q = this.queues[QueueName.Maintenance];
    await q.upsertJobScheduler(JobName.CleanupExports, { every: cleanupEverySeconds * 1000 }, { name: JobName.CleanupExports, data: {} });
    await q.upsertJobScheduler(JobName.SweepJobs, { every: sweepEverySeconds * 1000 }, { name: JobName.SweepJobs, data: {} });
  }

  /**
   * A user's schedule as a BullMQ job scheduler on the maintenance queue: each firing is a
   * RunSchedule job carrying the schedule's id (and, as BullMQ's prevMillis, the slot it stands for).
   */
  async upsertSchedule(scheduleId: string, repeat: { every: number } | { pattern: string; tz: string }): Promise<void> {
    if (this.failFast && !this.backend.ready()) throw new ServiceUnavailableError();
    const payload: JobPayloads[JobName.RunSchedule] = { scheduleId };
    await this.queues[QueueName.Maintenance].upsertJobScheduler(scheduleSchedulerId(scheduleId), repeat, {
      name: JobName.RunSchedule,
      data: payload,
    });
  }

  async removeSchedule(scheduleId: string): Promise<void> {
    await this.queues[QueueName.Maintenance].removeJobScheduler(scheduleSchedulerId(scheduleId));
  }

  /** The schedulers of users' schedules the backend holds, by schedule id, with their next firing (ms). */
  async scheduleSchedulers(): Promise<
    Map<string, { next: number | undefined; every: number | undefined; pattern: string | undefined; tz: string | undefined }>
  > {
    const all = await this.queues[QueueName.Maintenance].getJobSchedulers(0, -1);
    const out = new Map<
      string,
      { next: number | undefined; every: number | undefined; pattern: string | undefined; tz: string | undefined }
    >();
    for (const s of all) {
      const key = s.key ?? s.id ?? '';
      if (key.startsWith(SCHEDULE_PREFIX))
        out.set(key.slice(SCHEDULE_PREFIX.length), {
          next: s.next,
          every: s.every ?? undefined,
          pattern: s.pattern ?? undefined,
          tz: s.tz ?? undefined,
        });
    }
    return out;
  }

  /** One firing now for a slot missed while the service was down; a second add for the same slot is a no-op. */
  async addScheduleCatchUp(scheduleId: string, due: number): Promise<void> {
    const payload: JobPayloads[JobName.RunSchedule] = { scheduleId, due };
    await this.queues[QueueName.Maintenance].add(JobName.RunSchedule, payload, { jobId: `schedule-catchup-${scheduleId}-${due}` });
  }

  /** The BullMQ state of a tableport job's queue entry; `missing` when the queue has no such entry. */
  async inspect(entry: QueueEntry): Promise<{ state: string; failedReason: string }> {
    const job = await this.queues[entry.queue].getJob(entry.id);
    if (!job) return { state: 'missing', failedReason: '' };
    return { state: await job.getState(), failedReason: job.failedReason ?? '' };
  }

  /** Queues the entry again, dropping a finished one of the same id that would make the add a no-op. */
  async readd(entry: QueueEntry, jobId: string): Promise<void> {
    const old = await this.queues[entry.queue].getJob(entry.id);
    if (old && (await old.isCompleted())) await old.remove();
    await this.add(entry, jobId);
  }

  /** Queues one delivery of a job's end to a webhook; one per webhook and job, so a second add is a no-op. */
  async addDelivery(payload: JobPayloads[JobName.DeliverWebhook]): Promise<void> {
    await this.queues[QueueName.Webhook].add(JobName.DeliverWebhook, payload, { jobId: `hook-${payload.webhookId}-${payload.jobId}` });
  }

  /**
   * Withdraws a cancelled job: its queue entry goes when it is still waiting (an active one cannot be
   * removed, and is refused by the lifecycle anyway), and every worker hears the cancel on the
   * channel, so the one running it aborts it through BullMQ's cancellation (`Worker#cancelJob`).
   */
  async cancel(entry: QueueEntry, jobId: string): Promise<void> {
    await this.queues[entry.queue].remove(entry.id).catch(() => 0);
    await this.backend.cancels.publish(jobId);
  }

  /** Closes the backend: its queues, workers and connections. */
  async close(): Promise<void> {
    await this.backend.close();
  }
}

const SCHEDULE_PREFIX = 'schedule-';

/** The BullMQ job scheduler id of a user's schedule. */
export function scheduleSchedulerId(scheduleId: string): string {
  return `${SCHEDULE_PREFIX}${scheduleId}`;
}

/**
 * The first slot of a schedule after `after` (ms), as BullMQ's scheduler computes it: a cron
 * pattern read in its time zone, or an interval. Throws on a pattern BullMQ cannot read.
 */
export function nextSlot(after: number, repeat: { every: number } | { pattern: string; tz: string }): number {
  if ('every' in repeat) return after + repeat.every;
  const next = defaultRepeatStrategy(after, { pattern: repeat.pattern, tz: repeat.tz });
  if (next === undefined) throw new Error(`the pattern "${repeat.pattern}" has no next time`);
  return next;
}
