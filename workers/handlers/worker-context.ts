import type { Logger } from '../../src/logger.js';
import type { JobQueues } from '../../src/jobs/queues.js';
import type { JobMailService } from '../../src/services/mail.service.js';
import type { Repositories, Services } from '../../src/services/index.js';
import type { ServiceStorage } from '../../src/storage/index.js';

/** What handlers may touch: services and repositories, never raw connections. */
export interface WorkerContext {
  logger: Logger;
  services: Services;
  repos: Repositories;
  queues: JobQueues;
  storage: ServiceStorage;
  mail: JobMailService;
}
