import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.js';
import { JOB_QUEUE, JobName, QueueName, type JobPayloads } from '../src/jobs/job-names.js';
import { cleanupExports } from './handlers/cleanup-exports.handler.js';
import { exportBundle } from './handlers/export-bundle.handler.js';
import { exportTable } from './handlers/export-table.handler.js';
import { importBundle } from './handlers/import-bundle.handler.js';
import { importFile } from './handlers/import-file.handler.js';
import { finishFailed, toJobErrors } from './handlers/job-outcome.js';
import { sendJobMail } from './handlers/send-email.handler.js';
import type { WorkerContext } from './handlers/worker-context.js';

type Handler<N extends JobName> = (ctx: WorkerContext, job: Job<JobPayloads[N]>) => Promise<void>;

/** Every job name has a handler, or this does not compile. */
const HANDLERS = {
  [JobName.ExportTable]: exportTable,
  [JobName.ImportFile]: importFile,
  [JobName.ExportBundle]: exportBundle,
  [JobName.ImportBundle]: importBundle,
  [JobName.SendJobMail]: sendJobMail,
  [JobName.CleanupExports]: cleanupExports,
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

export function startWorkers(ctx: WorkerContext, connection: Redis, config: Config, tuning: WorkerTuning = {}): Workers {
  const queues = Object.values(QueueName);
  const workers = queues.map((queue) => {
    const w = new Worker(
      queue,
      async (job: Job) => {
        const name = job.name as JobName;
        if (JOB_QUEUE[name] !== queue) throw new Error(`job ${name} does not belong on queue ${queue}`);
        await (HANDLERS[name] as Handler<JobName>)(ctx, job);
      },
      {
        connection,
        prefix: config.queuePrefix,
        concurrency: queue === QueueName.Email ? 5 : queue === QueueName.Maintenance ? 1 : config.workerConcurrency,
        ...tuning,
      },
    );
    w.on('error', (err) => ctx.logger.error({ err, queue }, 'worker error'));
    // A job that stalled too often is failed by BullMQ without our handler running: record it.
    w.on('failed', (job, err) => {
      if (!job || queue === QueueName.Email || queue === QueueName.Maintenance) return;
      if (job.attemptsMade < (job.opts.attempts ?? 1) && !/stalled/i.test(err.message)) return;
      const { errors, count } = toJobErrors(err);
      finishFailed(ctx, (job.data as { jobId: string }).jobId, errors, count).catch((e) =>
        ctx.logger.error({ err: e, jobId: job.id }, 'could not record a failed job'),
      );
    });
    return w;
  });
  return {
    workers,
    /** Stops taking jobs and waits for the active ones; past the timeout they are handed back (they stall and rerun). */
    async close() {
      const graceful = Promise.all(workers.map((w) => w.close()));
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), config.shutdownTimeoutMs).unref());
      if ((await Promise.race([graceful, timeout])) === 'timeout') {
        ctx.logger.warn('active jobs did not finish in time; handing them back');
        await Promise.all(workers.map((w) => w.close(true)));
      }
    },
  };
}
