import type { Redis } from 'ioredis';
import { describeRedis } from './db/connection-info.js';
import type { Logger } from './logger.js';

/**
 * Logs a Redis outage once ("cannot reach Redis at redis://host:port", no credentials) and its
 * end once, instead of one line per reconnect attempt; the attempts themselves go to debug.
 */
export function watchRedis(redis: Redis, logger: Logger, url: string, role: string): void {
  let down = false;
  redis.on('error', (err: NodeJS.ErrnoException) => {
    if (down) return void logger.debug({ code: err.code, role }, 'redis still unreachable');
    down = true;
    logger.error({ code: err.code, role }, `cannot reach Redis at ${describeRedis(url)}; retrying with backoff`);
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({ role }, `reached Redis at ${describeRedis(url)} again`);
  });
}

/** Resolves when the connection is ready, or after `ms` (whichever comes first). */
export function redisReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    redis.once('ready', onReady);
  });
}
