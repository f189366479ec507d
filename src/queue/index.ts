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
import { createRedisBackend } from './redis/redis-backend.js';

/** The queue backend the configuration asks for. */
export function createQueueBackend(config: Config, role: BackendRole, logger: Logger, clock: Clock): QueueBackend {
  return createRedisBackend(config, role, logger, clock);
}
