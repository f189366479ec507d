/**
 * The Redis queue backend: BullMQ on Redis (one server or a Cluster), the minute as a Lua script,
 * cancels on a pub/sub channel. The production path for throughput and scale-out.
 */
import { Queue, Worker, type JobsOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { settlesWithin, type Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import { describeRedis } from '../../db/connection-info.js';
import type { QueueName } from '../../jobs/job-names.js';
import type { Logger } from '../../logger.js';
import type { BackendRole, CancelChannel, Processor, QueueBackend, QueueHandle, WorkerHandle, WorkerSettings } from '../queue-backend.js';
import { createProducerRedis, createRedis, type RedisClient } from './redis-connection.js';
import { RedisMinutes } from './redis-minutes.js';
import { logRedisClientError, watchRedis } from './redis-watch.js';

/** The pub/sub channel on which the API tells workers which running job to abort. */
export function cancelChannel(config: Pick<Config, 'queuePrefix'>): string {
  return `${config.queuePrefix}:tableport:cancel`;
}

export function createRedisBackend(config: Config, role: BackendRole, logger: Logger, clock: Clock, url: string): QueueBackend {
  // The API's connection fails fast (no offline queue, a timeout per command), so a request answers
  // 503 while Redis is away instead of hanging; a worker's waits for Redis to come back.
  const producer =
    role === 'api'
      ? createProducerRedis(url, 'tableport-api', config.redisCommandTimeoutMs, config.redisClusterNodes)
      : createRedis(url, 'tableport-worker-producer', config.redisClusterNodes);
  watchRedis(producer, logger, url, role);
  // Workers block on Redis, so they get a connection of their own, made when the first worker is.
  let blocking: RedisClient | undefined;
  const queues: Queue[] = [];
  const workers: Worker[] = [];
  const subscribers: RedisClient[] = [];

  const cancels: CancelChannel = {
    async publish(jobId) {
      await producer.publish(cancelChannel(config), jobId);
    },
    subscribe(onCancel) {
      const sub = producer instanceof Cluster ? producer.duplicate() : producer.duplicate({ connectionName: 'tableport-worker-cancels' });
      subscribers.push(sub);
      sub.on('error', (err) => logRedisClientError(logger, err, {}, 'cancel listener error'));
      sub.on('message', (_channel: string, jobId: string) => onCancel(jobId));
      sub.subscribe(cancelChannel(config)).catch((err: unknown) => logger.error({ err }, 'could not listen for job cancels'));
      return async () => {
        sub.disconnect();
      };
    },
  };

  return {
    kind: 'redis',
    address: describeRedis(url),
    queue(name: QueueName, defaultJobOptions: JobsOptions): QueueHandle {
      const q = new Queue(name, { connection: producer, prefix: config.queuePrefix, defaultJobOptions });
      q.on('error', (err) => logRedisClientError(logger, err, { queue: name }, 'queue error'));
      queues.push(q);
      return q;
    },
    worker(name: QueueName, processor: Processor, s: WorkerSettings): WorkerHandle {
      if (!blocking) {
        blocking = createRedis(url, 'tableport-worker', config.redisClusterNodes);
        watchRedis(blocking, logger, url, 'worker-blocking');
      }
      const { onFailed, ...settings } = s;
      const w = new Worker(name, processor, { connection: blocking, prefix: config.queuePrefix, ...settings });
      w.on('error', (err) => logRedisClientError(logger, err, { queue: name }, 'worker error'));
      if (onFailed) w.on('failed', onFailed);
      workers.push(w);
      return w;
    },
    minutes: new RedisMinutes(producer, config.queuePrefix, config.taskIntervalSeconds, clock),
    cancels,
    ready: () => producer.status === 'ready',
    async ping() {
      await producer.ping();
    },
    onReconnect(fn) {
      // The first 'ready' is the first connection, not a return.
      let connectedOnce = producer.status === 'ready';
      const onReady = () => {
        if (connectedOnce) fn();
        connectedOnce = true;
      };
      producer.on('ready', onReady);
      return () => producer.off('ready', onReady);
    },
    dashboardQueues: () => queues,
    async close() {
      for (const s of subscribers) s.disconnect();
      // Closing waits for Redis to answer; with Redis away that answer never comes.
      const away = producer.status !== 'ready';
      await settlesWithin(Promise.all(workers.map((w) => w.close(away))), away ? 100 : 2000);
      await settlesWithin(Promise.all(queues.map((q) => q.close())), away ? 100 : 2000);
      blocking?.disconnect();
      producer.disconnect();
    },
  };
}
