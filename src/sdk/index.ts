/**
 * The tableport Node SDK: a typed client for tableport's HTTP API (see docs/sdk.md).
 * Request and reply types are the server's own, from `src/types/api.ts`.
 *
 * @module
 */
export { TablePort, type JobsFilterOptions } from './client.js';
export { TableRef, type ExportOptions, type ImportFromOptions, type RowQuery } from './table.js';
export { RowRef } from './row.js';
export {
  Schedules,
  type Schedule,
  type ScheduleTiming,
  type TableScheduleOptions,
  type BundleScheduleOptions,
  type ScheduleChange,
} from './schedules.js';
export { JobHandle, type WaitOptions, type DownloadResult } from './job.js';
export type { ClientOptions, FetchLike } from './transport.js';
export type { PageOptions } from './paging.js';
export type { ImportSource, ImportOptions } from './upload.js';
export type { BundleDownloadOptions, BundleExportOptions, BundleImportOptions, BundleSource } from './bundles.js';
export { toUnixSeconds, type TimeInput } from './time.js';
export {
  TablePortError,
  ApiError,
  InvalidParameterError,
  TooFrequentError,
  TooManyRowsError,
  InvalidFileError,
  FileTooLargeError,
  NotFoundError,
  UnauthorizedError,
  ConnectionError,
  JobFailedError,
  JobTimeoutError,
  InvalidArgumentError,
} from './errors.js';
export type * from '../types/api.js';
export { FIELD_TYPES, FILE_TYPES, BUILTIN_FIELDS, ERROR_CODES } from '../types/api.js';
