import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.js';
import { JOB_QUEUE, JobName, QueueName, type JobPayloads } from '../src/jobs/job-names.js';
import { toJobErrors } from '../src/services/job-lifecycle.service.js';
import { cleanupExports } from './handlers/cleanup-exports.handler.js';
import { exportBundle } from './handlers/export-bundle.handler.js';
import { exportTable } from './handlers/export-table.handler.js';
import { importBundle } from './handlers/import-bundle.handler.js';
import { importFile } from './handlers/import-file.handler.js';
import type { RunInfo } from './handlers/job-outcome.js';
import { sendJobMail } from './handlers/send-email.handler.js';
import { sweepJobs } from './handlers/sweep-jobs.handler.js';
import type { WorkerContext } from './handlers/worker-context.js';
import { logRedisClientError } from '../src/redis-watch.js';

type Handler<N extends JobName> = (ctx: WorkerContext, job: Job<JobPayloads[N]>, run: RunInfo) => Promise<void>;

/** Every job name has a handler, or this does not compile. */
const HANDLERS = {
  [JobName.ExportTable]: exportTable,
  [JobName.ImportFile]: importFile,
  [JobName.ExportBundle]: exportBundle,
  [JobName.ImportBundle]: importBundle,
  [JobName.SendJobMail]: sendJobMail,
  [JobName.CleanupExports]: cleanupExports,
  [JobName.SweepJobs]: sweepJobs,
} satisfies { [N in JobName]: Handler<N> };

export interface WorkerTuning {
  /** Shorter in tests that kill a worker and watch another pick its job up. */
  lockDuration?: number;
  stalledInterval?: number;
}

export interface Workers {
  workers: Worker[];
  close(): Promise<void>;
}

const TASK_QUEUES: ReadonlySet<QueueName> = new Set([QueueName.Export, QueueName.Import]);

export function startWorkers(ctx: WorkerContext, connection: Redis, config: Config, tuning: WorkerTuning = {}): Workers {
  // One controller per running job: a shutdown past its timeout aborts them, so they roll back and hand the job back.
  const running = new Set<AbortController>();
  const queues = Object.values(QueueName);
  const workers = queues.map((queue) => {
    const w = new Worker(
      queue,
      async (job: Job, token?: string) => {
        const name = job.name as JobName;
        if (JOB_QUEUE[name] !== queue) throw new Error(`job ${name} does not belong on queue ${queue}`);
        const controller = new AbortController();
        running.add(controller);
        try {
          await (HANDLERS[name] as Handler<JobName>)(ctx, job, { token, signal: controller.signal });
        } finally {
          running.delete(controller);
        }
      },
      {
        connection,
        prefix: config.queuePrefix,
        concurrency: queue === QueueName.Email ? 5 : queue === QueueName.Maintenance ? 1 : config.workerConcurrency,
        // A crash (a stall) counts like a failed attempt: JOB_ATTEMPTS runs in all, whichever way each one ended.
        ...(TASK_QUEUES.has(queue) ? { maxStalledCount: Math.max(1, config.jobAttempts - 1) } : {}),
        ...tuning,
      },
    );
    w.on('error', (err) => logRedisClientError(ctx.logger, err, { queue }, 'worker error'));
    // A job that stalled too often is failed by BullMQ without our handler running: record it.
    w.on('failed', (job, err) => {
      if (!job || !TASK_QUEUES.has(queue) || !/stalled/i.test(err.message)) return;
      const { errors, count } = toJobErrors(new Error('The task stopped without finishing too many times (its worker was lost).'));
      ctx.services.lifecycle
        .fail((job.data as { jobId: string }).jobId, errors, count)
        .catch((e: unknown) => ctx.logger.error({ err: e, jobId: job.id }, 'could not record a failed job; the sweep will'));
    });
    return w;
  });

  // Redis came back (maybe empty, after a restart without persistence): the schedules may be gone.
  let connectedOnce = connection.status === 'ready';
  const onReady = () => {
    if (!connectedOnce) {
      connectedOnce = true;
      return;
    }
    ctx.logger.info('redis reconnected; re-creating the maintenance schedules');
    ctx.queues
      .scheduleMaintenance(config.cleanupIntervalSeconds)
      .catch((err: unknown) => ctx.logger.error({ err }, 'could not re-create the maintenance schedules'));
  };
  connection.on('ready', onReady);

  return {
    workers,
    /**
     * Stops taking jobs and waits for the active ones. Past SHUTDOWN_TIMEOUT_MS the running jobs are
     * aborted: their transactions roll back, partial files go, and each job is handed back to the
     * queue without spending an attempt, so another worker starts it cleanly.
     */
    async close() {
      connection.off('ready', onReady);
      const graceful = Promise.all(workers.map((w) => w.close()));
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), config.shutdownTimeoutMs).unref());
      if ((await Promise.race([graceful, timeout])) !== 'timeout') return;
      ctx.logger.warn({ jobs: running.size }, 'active jobs did not finish in time; stopping them and handing them back');
      for (const c of running) c.abort();
      // An aborted job needs a moment to roll back and move itself back to the queue.
      const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
      if ((await Promise.race([graceful, grace])) === 'timeout') ctx.logger.error('workers did not stop after their jobs were aborted');
    },
  };
}
