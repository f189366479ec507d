/**
 * The process's Prometheus metrics. One registry per process: in `npm start` the API and the
 * workers share it, so `/metrics` shows HTTP, jobs and mails together; a separate `tableport worker`
 * serves the same registry on `METRICS_PORT`. Jobs are counted by the job lifecycle and mails by the
 * mail service, where each ends, never by the routes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Job outcomes as the lifecycle records them. */
export type JobOutcome = 'succeeded' | 'failed' | 'cancelled';

/** What the queue-depth gauge reads on each scrape: BullMQ's counts per queue. */
export interface QueueCountsSource {
  names(): string[];
  counts(queue: string): Promise<Record<string, number>>;
}

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** A scrape must answer even while Redis is away: queue depth is left out after this long. */
export const QUEUE_COUNTS_TIMEOUT_MS = 1000;

const DURATION_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export class Metrics {
  readonly registry = new Registry();
  private queueSource: QueueCountsSource | undefined;

  readonly httpRequests = new Counter({
    name: 'tableport_http_requests_total',
    help: 'HTTP requests by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'tableport_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly jobs = new Counter({
    name: 'tableport_jobs_total',
    help: 'Finished jobs by type (export, import, and any later type such as bundle_export) and outcome (succeeded, failed, cancelled).',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'tableport_job_duration_seconds',
    help: 'Time from a job starting to its end, by type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly rows = new Counter({
    name: 'tableport_rows_total',
    help: 'Rows moved by succeeded jobs: direction "exported" or "imported" (dry runs move none).',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'tableport_queue_wait_seconds',
    help: 'Time from a job becoming ready (added, or its delay over) to a worker first starting it, by queue.',
    labelNames: ['queue'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  readonly mails = new Counter({
    name: 'tableport_mails_total',
    help: 'Job mails by outcome: "sent" (SMTP or the outbox) or "failed" (an attempt that threw; BullMQ retries it).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    const self = this;
    new Gauge({
      name: 'tableport_queue_jobs',
      help: `BullMQ jobs per queue and state, read on each scrape (left out when Redis does not answer within ${QUEUE_COUNTS_TIMEOUT_MS} ms).`,
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const source = self.queueSource;
        if (!source) return;
        await Promise.all(
          source.names().map(async (queue) => {
            const counts = await withTimeout(source.counts(queue), QUEUE_COUNTS_TIMEOUT_MS).catch(() => undefined);
            if (!counts) return;
            for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0);
          }),
        );
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where queue depth comes from: the API's queues (the last call wins). */
  setQueueSource(source: QueueCountsSource | undefined): void {
    this.queueSource = source;
  }

  recordJobEnd(job: {
    type: string;
    outcome: JobOutcome;
    rows: number;
    dryRun: boolean;
    startedAt: Date | null;
    finishedAt: Date | null;
  }): void {
    this.jobs.inc({ type: job.type, outcome: job.outcome });
    if (job.startedAt && job.finishedAt) {
      this.jobDuration.observe(
        { type: job.type, outcome: job.outcome },
        Math.max(0, (job.finishedAt.getTime() - job.startedAt.getTime()) / 1000),
      );
    }
    // export and bundle_export move rows out, import and bundle_import in; other types move none.
    const direction = /(^|_)export$/.test(job.type) ? 'exported' : /(^|_)import$/.test(job.type) ? 'imported' : undefined;
    if (direction && job.outcome === 'succeeded' && !job.dryRun && job.rows > 0) this.rows.inc({ direction }, job.rows);
  }

  /** `timestamp` is when the job was added, `delay` its delay, `processedOn` when this attempt started (BullMQ's fields, ms). */
  recordQueueWait(queue: string, job: { timestamp: number; delay?: number; processedOn?: number }): void {
    const started = job.processedOn ?? Date.now();
    const ready = job.timestamp + (job.delay ?? 0);
    this.queueWait.observe({ queue }, Math.max(0, (started - ready) / 1000));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Counts a job the lifecycle has just ended (called once per job, by the call that ended it). */
export function countJobEnd(
  job: { type: string; rows: number; params: unknown; started_at: Date | null; finished_at: Date | null } | null,
  outcome: JobOutcome,
): void {
  if (!job) return;
  metrics().recordJobEnd({
    type: job.type,
    outcome,
    rows: job.rows,
    dryRun: (job.params as { dry_run?: boolean } | null)?.dry_run === true,
    startedAt: job.started_at,
    finishedAt: job.finished_at,
  });
}

let current: Metrics | undefined;

/** This process's metrics, created on first use. */
export function metrics(): Metrics {
  current ??= new Metrics();
  return current;
}
