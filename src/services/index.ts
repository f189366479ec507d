/**
 * The wiring: repositories, the job lifecycle and its kinds, and the services the HTTP edge and
 * the workers call. Built once per role of a process.
 */
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { JobsRepository } from '../db/repositories/jobs.repository.js';
import { RecordsRepository } from '../db/repositories/records.repository.js';
import { RowsRepository } from '../db/repositories/rows.repository.js';
import { SchedulesRepository } from '../db/repositories/schedules.repository.js';
import { TablesRepository } from '../db/repositories/tables.repository.js';
import { UsersRepository } from '../db/repositories/users.repository.js';
import { WebhooksRepository } from '../db/repositories/webhooks.repository.js';
import { setValueLimits } from '../formats/values.js';
import { createJobKinds, type Kinds } from '../jobs/kinds/index.js';
import { JobLifecycle } from '../jobs/lifecycle/job-lifecycle.js';
import { JobSweep } from '../jobs/lifecycle/job-sweep.js';
import type { JobQueues } from '../jobs/queues.js';
import { createLocationContext } from '../locations/index.js';
import { TaskLocations } from '../locations/task-locations.js';
import { createLogger, type Logger } from '../logger.js';
import type { StorageDriver } from '../storage/index.js';
import { JobControlService } from './jobs/job-control.service.js';
import { JobsService } from './jobs/jobs.service.js';
import { SqlService } from './sql.service.js';
import { SchedulesService } from './schedules.service.js';
import { RecordsService } from './tables/records.service.js';
import { TablesService } from './tables/tables.service.js';
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
  /** Every job kind: their requests (export, import, bundles) and their work. */
  kinds: Kinds;
  jobs: JobsService;
  /** How every job is born, claimed, ended, cleaned up and mailed. */
  lifecycle: JobLifecycle;
  sweep: JobSweep;
  sql: SqlService;
  /** Cancel and retry of a user's jobs. */
  jobControl: JobControlService;
  webhooks: WebhooksService;
  /** Exports that run themselves: each firing births an ordinary job through the lifecycle. */
  schedules: SchedulesService;
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
  const tables = new TablesService(repos.tables, repos.rows, config.dbLockTimeoutMs);
  // One location context per process: it holds the outbound guard and its allow-list.
  const locations = new TaskLocations(createLocationContext(config.locations, logger), config.locations.credentialsKey);
  // Called at request time, once the lifecycle below exists.
  const jobsView = new JobsService(config, repos.jobs, tables, storage, (type) => lifecycle.kindOf(type).folder, clock);
  const webhooks = new WebhooksService({ config, webhooks: repos.webhooks, jobs: repos.jobs, jobsView, queues });
  const lifecycle = new JobLifecycle({
    config,
    pool,
    jobs: repos.jobs,
    queues,
    minutes: queues.backend.minutes,
    storage,
    logger,
    webhooks,
    clock,
  });
  const kinds = createJobKinds({
    config,
    pool,
    tables,
    tablesRepo: repos.tables,
    rows: repos.rows,
    jobs: repos.jobs,
    storage,
    locations,
    lifecycle,
    logger,
    clock,
  });
  return {
    repos,
    users: new UsersService(repos.users),
    tables,
    records: new RecordsService(pool, repos.rows, new RecordsRepository(pool), config.recordsPageMaxBytes, clock),
    kinds,
    jobs: jobsView,
    lifecycle,
    sweep: new JobSweep({ config, jobs: repos.jobs, queues, lifecycle, logger, clock }),
    sql: new SqlService({ tables, kinds }),
    jobControl: new JobControlService({ jobs: repos.jobs, jobsView, lifecycle }),
    webhooks,
    schedules: new SchedulesService({
      config,
      schedules: new SchedulesRepository(pool),
      tables,
      kinds,
      jobsView,
      queues,
      logger,
      clock,
    }),
  };
}
