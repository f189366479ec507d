/**
 * Connections to Redis (one server, or a Cluster from its seed nodes) for the Redis queue backend:
 * patient ones for workers, fail-fast ones for the API.
 */
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';

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
