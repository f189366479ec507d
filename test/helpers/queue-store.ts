/**
 * The queue a test server's jobs wait in, on whichever backend it runs (Redis, or PostgreSQL when
 * TEST_QUEUE_BACKEND=postgres): the service's own backend interface, so a test reaches into the
 * queue the way the service does, and what the backend stores, to check it holds no secret.
 */
import { Redis } from 'ioredis';
import { createLogger } from '../../src/logger.js';
import { createQueueBackend, type QueueBackend } from '../../src/queue/index.js';
import { QUEUE_SCHEMA } from '../../src/queue/postgres/postgres-backend.js';
import { REDIS_URL, TEST_QUEUE_BACKEND } from './env.js';
import type { TestServer } from './server.js';

/** A backend on the server's queues; close it when done. */
export function queueBackendOf(server: TestServer): Promise<QueueBackend> {
  return createQueueBackend(server.config, 'worker', createLogger('silent'), server.clock);
}

/** The job data the backend keeps for the server's queues, as stored (BullMQ keeps it in clear). */
export async function storedJobData(server: TestServer): Promise<string[]> {
  if (TEST_QUEUE_BACKEND === 'postgres') {
    const { rows } = await server.db.query<{ data: string }>(`SELECT data::text AS data FROM ${QUEUE_SCHEMA}.job`);
    return rows.map((r) => r.data);
  }
  const redis = new Redis(REDIS_URL);
  try {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${server.config.queuePrefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'hash') {
          const data = await redis.hget(key, 'data');
          if (data !== null) out.push(data);
        } else if (type === 'string') out.push((await redis.get(key)) ?? '');
      }
    } while (cursor !== '0');
    return out;
  } finally {
    redis.disconnect();
  }
}
