/**
 * Bundles: a whole workspace (several tables, their schemas and rows) as one JSON file, written
 * and read as streams, and the plan of what importing one does to the caller's tables.
 */
export {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  DEFAULT_BUNDLE_LIMITS,
  type BundleEvent,
  type BundleHeader,
  type BundleLimits,
  type BundleRow,
} from './bundle-format.js';
export { createBundleWriter, type BundleStats, type BundleTableSource, type BundleWriterOptions } from './bundle-writer.js';
export { readBundle, type BundleReaderOptions } from './bundle-reader.js';
export { BundleParser } from './bundle-parser.js';
/** The old name, still used by services/bundle-import.service.ts (outside this change): switch it to BundleParser, then drop this line. */
export {
  BundleImportPlanner,
  IMPORT_MODES,
  fieldMismatch,
  planBundleImport,
  type BundlePlan,
  type BundleTableSpec,
  type ExistingTable,
  type ImportMode,
  type PlanEnd,
  type TableAction,
} from './bundle-plan.js';
export { BundleRowsEncoder } from './bundle-rows.encoder.js';
