import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { JobsRepository } from '../db/repositories/jobs.repository.js';
import { RowsRepository } from '../db/repositories/rows.repository.js';
import { TablesRepository } from '../db/repositories/tables.repository.js';
import { UsersRepository } from '../db/repositories/users.repository.js';
import type { JobQueues } from '../jobs/queues.js';
import type { StorageDriver } from '../storage/index.js';
import { createBundleServices, type BundleServices } from './bundles.js';
import { ExportsService } from './exports.service.js';
import { ImportsService } from './imports.service.js';
import { JobsService } from './jobs.service.js';
import { RecordsService } from './records.service.js';
import { TablesService } from './tables.service.js';
import { TaskRateLimiter } from './task-rate-limiter.js';
import { UsersService } from './users.service.js';

export interface Infra {
  config: Config;
  pool: Pool;
  redis: Redis;
  queues: JobQueues;
  storage: StorageDriver;
}

export interface Repositories {
  users: UsersRepository;
  tables: TablesRepository;
  rows: RowsRepository;
  jobs: JobsRepository;
}

export interface Services {
  repos: Repositories;
  users: UsersService;
  tables: TablesService;
  records: RecordsService;
  exports: ExportsService;
  imports: ImportsService;
  jobs: JobsService;
  bundles: BundleServices;
}

export function createServices({ config, pool, redis, queues, storage }: Infra): Services {
  const repos: Repositories = {
    users: new UsersRepository(pool),
    tables: new TablesRepository(pool),
    rows: new RowsRepository(pool),
    jobs: new JobsRepository(pool),
  };
  const limiter = new TaskRateLimiter(redis, config.queuePrefix, config.taskIntervalSeconds);
  const tables = new TablesService(repos.tables, repos.rows);
  const common = { config, tables, tablesRepo: repos.tables, rows: repos.rows, jobs: repos.jobs, limiter, queues, storage };
  return {
    repos,
    users: new UsersService(repos.users),
    tables,
    records: new RecordsService(pool, repos.rows),
    exports: new ExportsService(common),
    imports: new ImportsService({ ...common, pool }),
    jobs: new JobsService(config, repos.jobs, tables, storage),
    bundles: createBundleServices({ config, pool, rows: repos.rows, jobs: repos.jobs, limiter, queues, storage }),
  };
}
