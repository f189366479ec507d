import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { Pool } from '../../db/pool.js';
import type { JobsRepository } from '../../db/repositories/jobs.repository.js';
import type { RowsRepository } from '../../db/repositories/rows.repository.js';
import type { ValueLimits } from '../../formats/values.js';
import type { TablesRepository } from '../../db/repositories/tables.repository.js';
import type { TaskLocations } from '../../locations/task-locations.js';
import type { Logger } from '../../logger.js';
import type { TablesService } from '../../services/tables/tables.service.js';
import type { ServiceStorage } from '../../storage/index.js';
import type { JobLifecycle } from '../lifecycle/job-lifecycle.js';

/** What every kind may use: the tables and their rows, the job rows, the files and places, and the lifecycle that gives birth to its jobs. */
export interface KindDeps {
  config: Config;
  /** MAX_CELL_BYTES and MAX_JSON_DEPTH, for every format, sniff and `where` a kind runs. */
  limits: ValueLimits;
  pool: Pool;
  tables: TablesService;
  tablesRepo: TablesRepository;
  rows: RowsRepository;
  jobs: JobsRepository;
  storage: ServiceStorage;
  locations: TaskLocations;
  lifecycle: JobLifecycle;
  logger: Logger;
  clock: Clock;
}
