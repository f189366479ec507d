import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { RecordsRepository } from '../db/repositories/records.repository.js';
import { JobsRepository } from '../db/repositories/jobs.repository.js';
import { RowsRepository } from '../db/repositories/rows.repository.js';
import { TablesRepository } from '../db/repositories/tables.repository.js';
import { UsersRepository } from '../db/repositories/users.repository.js';
import { WebhooksRepository } from '../db/repositories/webhooks.repository.js';
import type { JobQueues } from '../jobs/queues.js';
import { createLogger, type Logger } from '../logger.js';
import { setValueLimits } from '../formats/values.js';
import type { StorageDriver } from '../storage/index.js';
import { createLocationContext } from '../locations/index.js';
import { createBundleServices, type BundleServices } from './bundles.js';
import { ExportsService } from './exports.service.js';
import { ImportsService } from './imports.service.js';
import { JobControlService } from './job-control.service.js';
import { JobLifecycle } from './job-lifecycle.service.js';
import { JobSweep } from './job-sweep.service.js';
import { JobsService } from './jobs.service.js';
import { RecordsService } from './records.service.js';
import { SqlService } from './sql.service.js';
import { TaskLocations } from './task-locations.js';
import { TablesService } from './tables.service.js';
import { UsersService } from './users.service.js';
import { WebhooksService } from './webhooks.service.js';

export interface Infra {
  config: Config;
  pool: Pool;
  /** The queues on their backend; the backend also holds the per-table minute. */
  queues: JobQueues;
  storage: StorageDriver;
  logger?: Logger;
  clock?: Clock;
}

export interface Repositories {
  users: UsersRepository;
  tables: TablesRepository;
  rows: RowsRepository;
  jobs: JobsRepository;
  webhooks: WebhooksRepository;
}

export interface Services {
  repos: Repositories;
  users: UsersService;
  tables: TablesService;
  records: RecordsService;
  exports: ExportsService;
  imports: ImportsService;
  jobs: JobsService;
  /** How every job is claimed, ended, cleaned up and mailed. */
  lifecycle: JobLifecycle;
  sweep: JobSweep;
  sql: SqlService;
  /** Cancel and retry of a user's jobs. */
  jobControl: JobControlService;
  webhooks: WebhooksService;
  bundles: BundleServices;
}

export function createServices({ config, pool, queues, storage, logger = createLogger('silent'), clock = systemClock }: Infra): Services {
  setValueLimits({ maxCellBytes: config.maxCellBytes, maxJsonDepth: config.maxJsonDepth });
  const repos: Repositories = {
    users: new UsersRepository(pool),
    tables: new TablesRepository(pool),
    rows: new RowsRepository(pool),
    jobs: new JobsRepository(pool),
    webhooks: new WebhooksRepository(pool),
  };
  const limiter = queues.backend.minutes;
  const tables = new TablesService(repos.tables, repos.rows, config.dbLockTimeoutMs);
  // One location context per process: it holds the outbound guard and its allow-list.
  const locations = new TaskLocations(createLocationContext(config.locations, logger), config.locations.credentialsKey);
  const jobsView = new JobsService(config, repos.jobs, tables, storage, clock);
  const webhooks = new WebhooksService({ config, webhooks: repos.webhooks, jobs: repos.jobs, jobsView, queues });
  const lifecycle = new JobLifecycle({ config, pool, jobs: repos.jobs, queues, storage, logger, webhooks, clock });
  const common = {
    config,
    tables,
    tablesRepo: repos.tables,
    rows: repos.rows,
    jobs: repos.jobs,
    limiter,
    queues,
    storage,
    lifecycle,
    locations,
  };
  const exports = new ExportsService(common);
  const imports = new ImportsService({ ...common, pool });
  return {
    repos,
    users: new UsersService(repos.users),
    tables,
    records: new RecordsService(pool, repos.rows, new RecordsRepository(pool), config.recordsPageMaxBytes),
    exports,
    imports,
    jobs: jobsView,
    lifecycle,
    sweep: new JobSweep({ config, jobs: repos.jobs, queues, lifecycle, logger, clock }),
    sql: new SqlService({ tables, exports, imports }),
    jobControl: new JobControlService({
      config,
      jobs: repos.jobs,
      jobsView,
      rows: repos.rows,
      tables,
      limiter,
      queues,
      storage,
      lifecycle,
    }),
    webhooks,
    bundles: createBundleServices({ config, pool, rows: repos.rows, jobs: repos.jobs, limiter, queues, storage, lifecycle, logger }),
  };
}
