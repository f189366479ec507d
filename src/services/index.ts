/**
 * The wiring: repositories, the job lifecycle and its kinds, and the services the HTTP edge and
 * the workers call. Built once per role of a process.
 */
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import { SealedSecrets } from '../crypto/sealed-secrets.js';
import type { Pool } from '../db/pool.js';
import { JobsRepository } from '../db/repositories/jobs.repository.js';
import { RecordsRepository } from '../db/repositories/records.repository.js';
import { RowsRepository } from '../db/repositories/rows.repository.js';
import { SchedulesRepository } from '../db/repositories/schedules.repository.js';
import { TablesRepository } from '../db/repositories/tables.repository.js';
import { UsersRepository } from '../db/repositories/users.repository.js';
import { WebhooksRepository } from '../db/repositories/webhooks.repository.js';
import type { ValueLimits } from '../formats/values.js';
import { ImportUndoRepository } from '../db/repositories/import-undo.repository.js';
import { createJobKinds, type Kinds } from '../jobs/kinds/index.js';
import { JobLifecycle } from '../jobs/lifecycle/job-lifecycle.js';
import { JobSweep } from '../jobs/lifecycle/job-sweep.js';
import type { JobQueues } from '../jobs/queues.js';
import type { LocationContext } from '../locations/index.js';
import { TaskLocations } from '../locations/task-locations.js';
import { createLogger, type Logger } from '../logger.js';
import type { ServiceStorage } from '../storage/index.js';
import { JobControlService } from './jobs/job-control.service.js';
import { JobsService, type DownloadLinks } from './jobs/jobs.service.js';
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
  /** The service's own files: one place on the location drivers (src/storage/). */
  storage: ServiceStorage;
  /** The process's one location context: it holds the outbound guard and its allow-list. */
  locations: LocationContext;
  /** Signed download links, the HTTP edge's (src/http/download-links.ts). */
  links: DownloadLinks;
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

export function createServices({
  config,
  pool,
  queues,
  storage,
  locations: locationContext,
  links,
  logger = createLogger('silent'),
  clock = systemClock,
}: Infra): Services {
  const repos: Repositories = {
    users: new UsersRepository(pool),
    tables: new TablesRepository(pool),
    rows: new RowsRepository(pool),
    jobs: new JobsRepository(pool),
    webhooks: new WebhooksRepository(pool),
  };
  // The caps on one value, handed to every format, sniff and `where` (nothing reads them from a global).
  const limits: ValueLimits = { maxCellBytes: config.maxCellBytes, maxJsonDepth: config.maxJsonDepth };
  const tables = new TablesService(repos.tables, repos.rows, config.dbLockTimeoutMs);
  // The one sealer of credentials at rest: task and bundle locations, webhook secrets.
  const secrets = new SealedSecrets(config.locations.credentialsKey);
  const locations = new TaskLocations(locationContext, secrets);
  // Called at request time, once the lifecycle below exists.
  const jobsView = new JobsService(repos.jobs, tables, storage, links, (type) => lifecycle.kindOf(type).folder, clock);
  const webhooks = new WebhooksService({
    config,
    webhooks: repos.webhooks,
    jobs: repos.jobs,
    jobsView,
    queues,
    guard: locationContext.guard,
    secrets,
  });
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
    limits,
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
    records: new RecordsService(pool, repos.rows, new RecordsRepository(pool), config.recordsPageMaxBytes, clock, limits),
    kinds,
    jobs: jobsView,
    lifecycle,
    sweep: new JobSweep({ config, jobs: repos.jobs, queues, lifecycle, logger, clock, undo: new ImportUndoRepository(pool) }),
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
