export type {
  BackendRole,
  CancelChannel,
  MinuteStore,
  Processor,
  QueueBackend,
  QueueHandle,
  WorkerHandle,
  WorkerSettings,
} from './queue-backend.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { BackendRole, QueueBackend } from './queue-backend.js';
import { postgresBackend } from './postgres/postgres-backend.js';
import { createRedisBackend } from './redis/redis-backend.js';

/** The queue backend the configuration asks for: Redis when REDIS_URL is set, else PostgreSQL. */
export async function createQueueBackend(config: Config, role: BackendRole, logger: Logger, clock: Clock): Promise<QueueBackend> {
  return config.redisUrl
    ? createRedisBackend(config, role, logger, clock, config.redisUrl)
    : await postgresBackend(config, role, logger, clock);
}
