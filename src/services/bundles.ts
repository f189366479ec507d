/**
 * The bundle services, built from the common infrastructure: exports (job and download), imports
 * (request and status), and the import's transaction work that the import job runs.
 */
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { BundleJobsRepository } from '../db/repositories/bundle-jobs.repository.js';
import type { JobRecord, JobsRepository } from '../db/repositories/jobs.repository.js';
import type { RowsRepository } from '../db/repositories/rows.repository.js';
import { WorkspaceRepository } from '../db/repositories/workspace.repository.js';
import type { JobQueues } from '../jobs/queues.js';
import { createLocationContext } from '../locations/index.js';
import type { Logger } from '../logger.js';
import type { StorageDriver } from '../storage/index.js';
import { BundleExportService } from './bundle-export.service.js';
import { BundleImportRunner } from './bundle-import.runner.js';
import { BundleImportService } from './bundle-import.service.js';
import { BundleSources } from './bundle-source.js';
import type { JobLifecycle } from './job-lifecycle.service.js';
import type { MinuteStore } from '../queue/index.js';

export interface BundleServices {
  exports: BundleExportService;
  imports: BundleImportService;
  runner: BundleImportRunner;
  /** The bundle jobs' work, run as a job attempt: returns the ended job, or null when it had already ended. */
  runExport(jobId: string, signal?: AbortSignal): Promise<JobRecord | null>;
  runImport(jobId: string, signal?: AbortSignal): Promise<JobRecord | null>;
}

export interface BundleInfra {
  config: Config;
  pool: Pool;
  rows: RowsRepository;
  jobs: JobsRepository;
  limiter: MinuteStore;
  queues: JobQueues;
  storage: StorageDriver;
  lifecycle: JobLifecycle;
  logger?: Logger;
}

export function createBundleServices({
  config,
  pool,
  rows,
  jobs,
  limiter,
  queues,
  storage,
  lifecycle,
  logger,
}: BundleInfra): BundleServices {
  const workspace = new WorkspaceRepository(pool);
  const bundleJobs = new BundleJobsRepository(pool);
  const sources = new BundleSources(storage, createLocationContext(config.locations, logger));
  const deps = { config, workspace, rows, jobs, limiter, queues, storage };
  const exports = new BundleExportService(deps);
  const runner = new BundleImportRunner({
    workspace,
    rows,
    jobs,
    bundleJobs,
    sources,
    limits: { maxTables: config.bundleMaxTables, maxRowsPerTable: config.exportMaxRows },
  });
  return {
    exports,
    imports: new BundleImportService({ ...deps, bundleJobs, sources }),
    runner,
    // Plug-ins of the one job lifecycle: it claims, ends, cleans up and mails; these do the work.
    runExport: (jobId, signal) => lifecycle.run(jobId, (ctx) => exports.run(ctx), signal),
    // The import's DDL and COPY run on the claim's own transaction: they commit with the success, or not at all.
    runImport: (jobId, signal) => lifecycle.run(jobId, (ctx) => runner.run(ctx), signal),
  };
}
