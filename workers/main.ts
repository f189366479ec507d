import { hostname } from 'node:os';
import type { Job } from 'bullmq';
import type { Config } from '../src/config.js';
import { JOB_QUEUE, JobName, QueueName, type JobPayloads } from '../src/jobs/job-names.js';
import { toJobErrors } from '../src/jobs/lifecycle/job-outcomes.js';
import { cleanupExports } from './handlers/cleanup-exports.handler.js';
import { deliverWebhook } from './handlers/deliver-webhook.handler.js';
import { runJob, type RunInfo } from './handlers/run-job.handler.js';
import { runSchedule } from './handlers/run-schedule.handler.js';
import { sendJobMail } from './handlers/send-email.handler.js';
import { sweepJobs } from './handlers/sweep-jobs.handler.js';
import type { WorkerContext } from './handlers/worker-context.js';
import type { WorkerHandle } from '../src/queue/index.js';
import { metrics } from '../src/metrics/metrics.js';
import { keepPrototypesFast } from '../src/runtime/fast-prototypes.js';
import { settlesWithin } from '../src/clock.js';

type Handler<N extends JobName> = (ctx: WorkerContext, job: Job<JobPayloads[N]>, run: RunInfo) => Promise<void>;

/** Every one of the service's own jobs has a handler, or this does not compile; the work of tableport jobs is `runJob`. */
const HANDLERS = {
  [JobName.SendJobMail]: sendJobMail,
  [JobName.CleanupExports]: cleanupExports,
  [JobName.SweepJobs]: sweepJobs,
  [JobName.DeliverWebhook]: deliverWebhook,
  [JobName.RunSchedule]: runSchedule,
} satisfies { [N in JobName]: Handler<N> };

export interface WorkerTuning {
  /** Shorter in tests that kill a worker and watch another pick its job up. */
  lockDuration?: number;
  stalledInterval?: number;
}

export interface Workers {
  workers: WorkerHandle[];
  close(): Promise<void>;
}

const TASK_QUEUES: ReadonlySet<QueueName> = new Set([QueueName.Export, QueueName.Import]);

export function startWorkers(ctx: WorkerContext, config: Config, tuning: WorkerTuning = {}): Workers {
  const { backend } = ctx.queues;
  // One controller per running job: a shutdown past its timeout aborts them, so they roll back and hand the job back.
  const running = new Set<AbortController>();
  const queues = Object.values(QueueName);
  const workers = queues.map((queue) =>
    backend.worker(
      queue,
      async (job: Job, token?: string, cancelled?: AbortSignal) => {
        const name = job.name as JobName;
        // The export and import queues carry the work of tableport jobs, of any kind (the job row says which).
        const work = TASK_QUEUES.has(queue);
        if (!work && JOB_QUEUE[name] !== queue) throw new Error(`job ${name} does not belong on queue ${queue}`);
        // The wait before the first attempt only: a retry's wait includes its earlier attempts and backoff.
        if (job.attemptsMade === 0) metrics().recordQueueWait(queue, job);
        // A module loaded since start-up may have slowed a built-in prototype; the job's loops need them fast.
        keepPrototypesFast();
        const controller = new AbortController();
        running.add(controller);
        try {
          // A shutdown and a user's cancel (BullMQ's own signal, see `cancel` below) stop the job the same way.
          const signal = cancelled ? AbortSignal.any([controller.signal, cancelled]) : controller.signal;
          const handle = work ? runJob : (HANDLERS[name] as Handler<JobName>);
          await handle(ctx, job, { token, signal });
        } finally {
          running.delete(controller);
        }
      },
      {
        // Recorded on each job it takes (BullMQ's processedBy): which replica ran what.
        name: `${hostname()}:${process.pid}`,
        concurrency:
          queue === QueueName.Email || queue === QueueName.Webhook ? 5 : queue === QueueName.Maintenance ? 1 : config.workerConcurrency,
        // A crash (a stall) counts like a failed attempt: JOB_ATTEMPTS runs in all, whichever way each one ended.
        ...(TASK_QUEUES.has(queue) ? { maxStalledCount: Math.max(1, config.jobAttempts - 1) } : {}),
        ...tuning,
        // A job that stalled too often is failed by BullMQ without our handler running: record it.
        onFailed: (job, err) => {
          if (!job || !TASK_QUEUES.has(queue) || !/stalled/i.test(err.message)) return;
          const { errors, count } = toJobErrors(new Error('The task stopped without finishing too many times (its worker was lost).'));
          ctx.services.lifecycle
            .fail((job.data as { jobId: string }).jobId, errors, count)
            .catch((e: unknown) => ctx.logger.error({ err: e, jobId: job.id }, 'could not record a failed job; the sweep will'));
        },
      },
    ),
  );

  // A cancel asked through the API reaches every worker; the one running the job aborts it.
  const unsubscribe = backend.cancels.subscribe((jobId) => {
    for (const w of workers)
      if (TASK_QUEUES.has(w.name as QueueName) && w.cancelJob(jobId, 'cancelled')) ctx.logger.info({ jobId }, 'running job cancelled');
  });

  // The backend came back (Redis maybe empty, after a restart without persistence): the schedules may be gone.
  const offReconnect = backend.onReconnect(() => {
    ctx.logger.info('queue backend reached again; re-creating the maintenance schedules');
    ctx.queues
      .scheduleMaintenance(config.cleanupIntervalSeconds)
      .catch((err: unknown) => ctx.logger.error({ err }, 'could not re-create the maintenance schedules'));
    ctx.services.schedules.reconcile().catch((err: unknown) => ctx.logger.error({ err }, "could not re-create the users' schedules"));
  });

  return {
    workers,
    /**
     * Stops taking jobs and waits for the active ones. Past SHUTDOWN_TIMEOUT_MS the running jobs are
     * aborted: their transactions roll back, partial files go, and each job is handed back to the
     * queue without spending an attempt, so another worker starts it cleanly.
     */
    async close() {
      offReconnect();
      await unsubscribe();
      const graceful = Promise.all(workers.map((w) => w.close()));
      // With no job running there is nothing to wait for but BullMQ's goodbyes to Redis, which never
      // come while Redis is away: give them a moment (none when Redis is known to be away), not the whole shutdown timeout.
      const idleWait = backend.ready() ? Math.min(2000, config.shutdownTimeoutMs) : 0;
      if (await settlesWithin(graceful, running.size ? config.shutdownTimeoutMs : idleWait)) return;
      if (running.size) {
        ctx.logger.warn({ jobs: running.size }, 'active jobs did not finish in time; stopping them and handing them back');
        for (const c of running) c.abort(new Error('The worker is shutting down.'));
        // An aborted job rolls back and moves itself back to the queue; past the abort grace the lifecycle frees it regardless.
        if (await settlesWithin(graceful, config.jobAbortGraceMs + 3000)) return;
      }
      if (running.size) ctx.logger.error({ jobs: running.size }, 'jobs did not stop after they were aborted; exiting without them');
      else ctx.logger.warn('the queue connection did not close (is Redis reachable?); closing without it');
      await settlesWithin(Promise.all(workers.map((w) => w.close(true))), 1000);
    },
  };
}
