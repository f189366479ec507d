/**
 * The registry of job kinds: one line per kind, held by the compiler to the API's job types, so a
 * type without a kind (or a kind without a type) does not build.
 */
import { BundleJobsRepository } from '../../db/repositories/bundle-jobs.repository.js';
import { WorkspaceRepository } from '../../db/repositories/workspace.repository.js';
import type { JobKinds } from '../job-kind.js';
import { BundleExportKind } from './bundle-export/bundle-export.kind.js';
import { BundleImportKind } from './bundle-import/bundle-import.kind.js';
import { BundleImportRunner } from './bundle-import/bundle-import.runner.js';
import { BundleSources } from './bundle-import/bundle-source.js';
import { ExportKind } from './export/export.kind.js';
import { ImportKind } from './import/import.kind.js';
import type { KindDeps } from './kind-deps.js';
import { UndoKind } from './undo/undo.kind.js';

export function createJobKinds(d: KindDeps) {
  const workspace = new WorkspaceRepository(d.pool);
  const bundleJobs = new BundleJobsRepository(d.pool);
  const sources = new BundleSources(d.storage, d.locations.ctx, d.locations.secrets);
  const runner = new BundleImportRunner({
    workspace,
    rows: d.rows,
    jobs: d.jobs,
    bundleJobs,
    sources,
    limits: { maxTables: d.config.bundleMaxTables, maxRowsPerTable: d.config.exportMaxRows },
    valueLimits: d.limits,
    clock: d.clock,
  });
  const kinds = {
    export: new ExportKind(d),
    import: new ImportKind(d),
    bundle_export: new BundleExportKind({ ...d, workspace }),
    bundle_import: new BundleImportKind({ ...d, bundleJobs, sources, runner }),
    undo: new UndoKind(d),
  } satisfies JobKinds;
  d.lifecycle.plug(kinds);
  return kinds;
}

export type Kinds = ReturnType<typeof createJobKinds>;
