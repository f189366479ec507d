import type { RedisClient as Redis } from './redis-connection.js';
import { describeRedis } from '../../db/connection-info.js';
import type { Logger } from '../../logger.js';
import { isNetworkErrorCode } from '../../net/network-errors.js';

/** Connections of this process that are down, by Redis address: the outage is reported once per process. */
const downByAddress = new Map<string, Set<string>>();

/**
 * Logs a Redis outage once per process ("cannot reach Redis at redis://host:port", no
 * credentials), however many connections notice it, and its end once, instead of one line per
 * reconnect attempt; the attempts themselves go to debug.
 */
export function watchRedis(redis: Redis, logger: Logger, url: string, role: string): void {
  const address = describeRedis(url);
  const down = downByAddress.get(address) ?? new Set<string>();
  downByAddress.set(address, down);
  const id = `${role}#${down.size}-${Math.random()}`;
  redis.on('error', (err: NodeJS.ErrnoException) => {
    if (down.has(id)) return void logger.debug({ code: err.code, role }, 'redis still unreachable');
    const first = down.size === 0;
    down.add(id);
    if (first)
      logger.error(
        { code: err.code },
        `cannot reach Redis at ${address} (REDIS_URL); retrying with backoff, and the API answers 503 for what needs it`,
      );
  });
  redis.on('ready', () => {
    if (!down.delete(id)) return;
    if (down.size === 0) logger.info(`reached Redis at ${address} again`);
  });
  redis.on('end', () => down.delete(id));
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

/**
 * For the `error` listeners of BullMQ's Queues and Workers: a lost connection is already reported
 * once by `watchRedis`, so each reconnect attempt goes to debug; anything else is an error.
 */
export function logRedisClientError(logger: Logger, err: Error, fields: Record<string, unknown>, msg: string): void {
  const code = (err as NodeJS.ErrnoException).code;
  const lost = isNetworkErrorCode(code) || /Connection is closed|Stream isn't writeable/.test(err.message);
  if (lost) logger.debug({ ...fields, code: code ?? err.message }, msg);
  else logger.error({ ...fields, err }, msg);
}
