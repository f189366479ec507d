import { Queue, type JobsOptions } from 'bullmq';
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';
import { ServiceUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { logRedisClientError } from '../redis-watch.js';
import { JOB_QUEUE, JobName, QueueName, bullJobId, type JobPayloads, type TaskJobName } from './job-names.js';

/** Reconnect delays: 100 ms doubling to 2 s, so a restart is noticed fast and an outage costs little. */
export function redisRetryDelay(times: number): number {
  return Math.min(100 * 2 ** Math.min(times - 1, 5), 2000);
}

/** One Redis or a Redis Cluster: the queues, workers and the rate limiter work with either. */
export type RedisClient = Redis | Cluster;

/**
 * A Cluster client from its seed nodes, with each node's connection options; the credentials (and
 * TLS, with `rediss:`) come from REDIS_URL. Keys must share a hash tag: see `hashTagged` in config.
 */
function createCluster(nodes: ClusterNode[], url: string, node: RedisOptions, offlineQueue: boolean): Cluster {
  const u = new URL(url);
  const auth: RedisOptions = {};
  if (u.username) auth.username = decodeURIComponent(u.username);
  if (u.password) auth.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') auth.tls = {};
  return new Cluster(nodes, {
    redisOptions: { ...node, ...auth },
    clusterRetryStrategy: redisRetryDelay,
    enableOfflineQueue: offlineQueue,
    // Slots move (resharding, failover): follow them rather than fail the command.
    maxRedirections: 16,
  });
}

/** BullMQ needs `maxRetriesPerRequest: null` so blocking commands survive reconnects. */
export function createRedis(url: string, name: string, clusterNodes?: ClusterNode[]): RedisClient {
  const options: RedisOptions = { maxRetriesPerRequest: null, connectionName: name, retryStrategy: redisRetryDelay };
  if (clusterNodes?.length) return createCluster(clusterNodes, url, options, true);
  return new Redis(url, options);
}

/**
 * The API's producer connection: it must fail fast, not queue, so a request answers 503 while
 * Redis is away instead of hanging. No offline queue, one retry, and a timeout per command.
 */
export function createProducerRedis(url: string, name: string, commandTimeoutMs: number, clusterNodes?: ClusterNode[]): RedisClient {
  const options: RedisOptions = {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
    retryStrategy: redisRetryDelay,
  };
  if (clusterNodes?.length) return createCluster(clusterNodes, url, options, false);
  return new Redis(url, options);
}

/** The pub/sub channel on which the API tells workers which running job to abort. */
export function cancelChannel(config: Pick<Config, 'queuePrefix'>): string {
  return `${config.queuePrefix}:tableport:cancel`;
}

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

export class JobQueues {
  readonly queues: Record<QueueName, Queue>;

  constructor(
    private readonly connection: RedisClient,
    private readonly config: Config,
    logger: Logger,
    /** The API's queues: refuse at once (503) while Redis is not connected, rather than wait for it. */
    private readonly failFast = false,
  ) {
    const make = (name: QueueName) => {
      const q = new Queue(name, { connection, prefix: config.queuePrefix, defaultJobOptions: defaultJobOptions(config, name) });
      q.on('error', (err) => logRedisClientError(logger, err, { queue: name }, 'queue error'));
      return q;
    };
    this.queues = {
      [QueueName.Export]: make(QueueName.Export),
      [QueueName.Import]: make(QueueName.Import),
      [QueueName.Email]: make(QueueName.Email),
      [QueueName.Maintenance]: make(QueueName.Maintenance),
      [QueueName.Webhook]: make(QueueName.Webhook),
    };
  }

  async add<N extends TaskJobName>(name: N, payload: JobPayloads[N]): Promise<void> {
    if (this.failFast && this.connection.status !== 'ready') throw new ServiceUnavailableError();
    await this.queues[JOB_QUEUE[name]].add(name, payload, { jobId: bullJobId(name, payload.jobId) });
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

  /** The BullMQ state of a tableport job's queue entry; `missing` when Redis has no such job. */
  async inspect(name: TaskJobName, jobId: string): Promise<{ state: string; failedReason: string }> {
    const job = await this.queues[JOB_QUEUE[name]].getJob(bullJobId(name, jobId));
    if (!job) return { state: 'missing', failedReason: '' };
    return { state: await job.getState(), failedReason: job.failedReason ?? '' };
  }

  /** Queues the job again, dropping a finished entry of the same id that would make the add a no-op. */
  async readd<N extends TaskJobName>(name: N, jobId: string): Promise<void> {
    const q = this.queues[JOB_QUEUE[name]];
    const old = await q.getJob(bullJobId(name, jobId));
    if (old && (await old.isCompleted())) await old.remove();
    await this.add(name, { jobId } as JobPayloads[N]);
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
  async cancel(name: TaskJobName, jobId: string): Promise<void> {
    const q = this.queues[JOB_QUEUE[name]];
    await q.remove(bullJobId(name, jobId)).catch(() => 0);
    await this.connection.publish(cancelChannel(this.config), jobId);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
  }
}
