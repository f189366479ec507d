/**
 * The wire types of tableport's HTTP API (see `shared/API.md`). The server builds its responses
 * from these and the SDK reads them, so the two cannot drift apart.
 *
 * @module
 */

/** A field type of a table's schema. */
export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'array' | 'object';

/** The field types, in the order the documentation lists them. */
export const FIELD_TYPES = ['string', 'integer', 'number', 'boolean', 'date', 'array', 'object'] as const satisfies readonly FieldType[];

/** The built-in fields every row has, in the order exported files put them. */
export const BUILTIN_FIELDS = ['id', 'created_at', 'updated_at', 'created_by'] as const;
/** One of the built-in fields. */
export type BuiltinField = (typeof BUILTIN_FIELDS)[number];
/** The field type each built-in field's values have (`created_at`, `updated_at`: Unix seconds). */
export const BUILTIN_FIELD_TYPES: Readonly<Record<BuiltinField, FieldType>> = {
  id: 'string',
  created_at: 'integer',
  updated_at: 'integer',
  created_by: 'string',
};

/** One field of a table's schema. */
export interface FieldSchema {
  /** Column name: a letter or `_`, then letters, digits or `_`; at most 63 characters. */
  name: string;
  type: FieldType;
  /** Free text shown to people; tableport does not interpret it. */
  description?: string;
}

/** A table's schema: its own fields, in order (built-in fields come on top of these). */
export interface TableSchema {
  fields: FieldSchema[];
}

/** `POST /oserve/v1/table/` body. */
export interface CreateTableRequest {
  name: string;
  schema: TableSchema;
}

/** A table as the API returns it. */
export interface Table {
  id: number;
  name: string;
  schema: TableSchema;
  /** Number of rows in the table now. */
  row_count: number;
  /** Unix seconds. */
  created_at: number;
  /** Unix seconds. */
  updated_at: number;
}

/** A value a row's field can hold (JSON-native). */
export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };

/** A row as the API returns it: the built-in fields plus the schema's fields. */
export interface TableRow {
  id: string;
  /** Unix seconds. */
  created_at: number;
  /** Unix seconds. */
  updated_at: number;
  created_by: string | null;
  [field: string]: FieldValue;
}

/** A row as a client sends it: schema fields, optionally `id` and `created_at`. */
export type RowInput = { id?: string; created_at?: number } & { [field: string]: FieldValue | undefined };

/** The reply to inserting an array of rows. */
export interface BulkInsertResponse {
  succeed: number;
  total_count: number;
  operation_result: Array<{ success: { id: string; created_at: number } }>;
}

/** MinApp's page meta. `next` and `previous` are paths with the query for that page, or `null`. */
export interface PageMeta {
  limit: number;
  offset: number;
  total_count: number;
  next: string | null;
  previous: string | null;
}

/**
 * The meta of a records page. When the rows' JSON passed the server's byte budget the page is cut
 * short: `limit` is then the number of rows sent, `truncated` is true, and `next` follows on.
 */
export interface RecordPageMeta extends PageMeta {
  truncated?: boolean;
}

/** `GET .../record/`: a page of rows, possibly cut short by the server's byte budget. */
export interface RecordPage {
  meta: RecordPageMeta;
  objects: TableRow[];
}

/** MinApp's page shape. */
export interface Page<T> {
  meta: PageMeta;
  objects: T[];
}

/** File formats (`sql` is export only; a server may lack `parquet` and `xlsx`). */
export type FileType = 'csv' | 'json' | 'ndjson' | 'parquet' | 'xlsx' | 'sql';
/** The file formats the API names. */
export const FILE_TYPES = ['csv', 'json', 'ndjson', 'parquet', 'xlsx', 'sql'] as const satisfies readonly FileType[];

/** Export compression: `gzip` adds `.gz` to the file name. */
export type Compression = 'none' | 'gzip';
/** What an import does with a row whose id is already in the table. */
export type OnConflict = 'error' | 'skip' | 'update';

/** Export selection modes. */
export type ExportMode = 'all' | 'part';

/** `POST /oserve/v1/table/:table_id/export/` body. */
export interface ExportRequest {
  file_type: FileType;
  mode: ExportMode;
  /** Unix seconds, inclusive (with `mode: 'part'`). */
  start?: number;
  /** Unix seconds, exclusive (with `mode: 'part'`). */
  end?: number;
  /** `gzip` compresses the file (its name gains `.gz`). */
  compression?: Compression;
  /** CSV: the cell separator, one character (default `,`). */
  csv_delimiter?: string;
  /** CSV: write a header line (default true). */
  csv_header?: boolean;
  /** CSV: start with a UTF-8 byte order mark, for Excel (default false). */
  csv_bom?: boolean;
  /** CSV: text cells starting with = + - @ TAB or CR get a leading `'`, so spreadsheets do not run them (default false). */
  csv_escape_formulas?: boolean;
  /** MinApp query selecting the rows, ANDed with the `[start, end)` window. */
  where?: WhereQuery;
  /** Only these columns, in this order (built-ins included). Not with `exclude_keys`. */
  include_keys?: string[];
  /** Every column but these. Not with `include_keys`. */
  exclude_keys?: string[];
  /** Sort keys, `-` for descending, e.g. `["-price", "title"]`; default `["created_at"]`; ties by `id`. */
  order_by?: string[];
  /** CSV header names, one per exported column, in order. */
  csv_customize_headers?: string[];
  /** Columns holding Unix seconds (built-ins or integer fields) written as ISO 8601 UTC text. */
  timestamp_convert_keys?: string[];
  /** Write the file to a location instead of behind a download link: `s3://`, `gcs://`, `azblob://` or `file:///` (a trailing `/`: a folder). */
  destination?: string;
  /** CnosDB's connection options for `destination` (credentials are never shown back). */
  connection?: LocationConnection;
  /** Only rows created or updated since then (Unix seconds), and the ids of rows deleted since, marked `_deleted`. */
  changes_since?: number;
}

/** CnosDB's connection options of a location (S3, GCS or Azure Blob names; see docs/locations.md). */
export type LocationConnection = Record<string, string | boolean>;

/** `POST /oserve/v1/table/:table_id/import/` with a JSON body: read the file(s) from a location. */
export interface ImportFromSourceRequest {
  /** `s3://`, `gcs://`, `azblob://`, `http(s)://` or `file:///`; a trailing `/` imports every object under it, in name order. */
  source: string;
  connection?: LocationConnection;
  /** Otherwise read from the content. */
  file_type?: FileType;
  /** As an upload's fields: `csv_delimiter`, `csv_header` (`false`: then `columns` names the columns), `on_conflict`, `dry_run`, `email`. */
  csv_delimiter?: string;
  csv_header?: boolean;
  columns?: string[] | string;
  /** Text files: their encoding; detected when unset. */
  encoding?: string;
  /** CSV number fields: `.` or `,`. */
  decimal_separator?: '.' | ',';
  /** xlsx: the sheet, by name or 1-based index. */
  sheet?: string | number;
  /** File column → field, or `null` to drop the column. */
  mapping?: Record<string, string | null>;
  on_conflict?: OnConflict;
  /** The field(s) `on_conflict` finds existing rows by (default `id`): an array or a comma-separated list. */
  conflict_key?: string[] | string;
  dry_run?: boolean;
  email?: boolean;
}

/** `POST /oserve/v1/sql`. */
export interface SqlRequest {
  /** One `COPY INTO` statement. */
  sql: string;
}

/**
 * MinApp's `where`: `{field: value}` (equality) or `{field: {$op: value}}` with the operators
 * `$eq $ne $lt $lte $gt $gte $in $nin $contains $isnull $range $exists $regex $all`, combined with
 * `{$and: [...]}` and `{$or: [...]}`. Built-in fields (`id`, `created_at`, ...) may be used too.
 */
export type WhereQuery = { [key: string]: unknown };

/** MinApp's atomic update operators, one per field of a `PUT .../record/:id/` body. */
export type AtomicUpdate =
  | { $incr_by: number }
  | { $append: FieldValue[] | FieldValue }
  | { $append_unique: FieldValue[] | FieldValue }
  | { $remove: FieldValue[] | FieldValue };

/** `PUT /oserve/v1/table/:table_id/record/:record_id/` body: plain values and atomic operators. */
export type RecordUpdate = { [field: string]: FieldValue | AtomicUpdate };

/** The reply to queuing an export or an import. */
export interface JobCreatedResponse {
  status: 'ok';
  job_id: string;
}

export type JobType = 'export' | 'import' | 'bundle_export' | 'bundle_import' | 'undo';
/** The job types, as the API names them. */
export const JOB_TYPES = ['export', 'import', 'bundle_export', 'bundle_import', 'undo'] as const satisfies readonly JobType[];
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];

/** One error of a job: a stable code, a sentence, and for import rows the file's line. */
export interface JobError {
  error_code: string;
  error_msg: string;
  /** 1-based line of the file where the row starts (imports). */
  line?: number;
  /** The field the error is about, when there is one. */
  field?: string;
  /** A bundle import: the table the error is about. */
  table?: string;
}

/** `GET /oserve/v1/jobs/:job_id`. */
export interface Job {
  id: string;
  type: JobType;
  /** The job's table; `null` for a bundle job, which spans tables. */
  table_id: number | null;
  status: JobStatus;
  /** 0-100. */
  progress: number;
  /** Rows exported, or written by an import (0 until it succeeds). */
  rows: number;
  /** Signed download link of an export, once it succeeded; `null` otherwise. */
  file_url: string | null;
  file_type: FileType | null;
  file_name: string | null;
  /** Errors; for a failed import, the first rows that failed (capped) and then a summary. */
  errors: JobError[];
  /** An import that only validated the file (`dry_run=true`): `rows` is what it would write. */
  dry_run?: boolean;
  /** A failed import: a signed link to a CSV of the bad rows with their reasons, to fix and import again. */
  error_report_url?: string | null;
  /** An import that created its table (`POST /table/import/`): the schema inferred from the file. */
  inferred_schema?: TableSchema;
  /** An import of a text file: the encoding it was read in (`utf-8`, `utf-16le`, `gb18030`...), named or detected. */
  encoding?: string;
  /** An import of a CSV file whose numbers are read with this decimal separator (named, or detected with `;`). */
  decimal_separator?: '.' | ',';
  /** An import of an xlsx workbook: the sheet it reads (named, or the one whose header matched the table). */
  sheet?: string;
  /** `POST /table/import/` with `sheets=all`: each sheet and the table made for it (`table_id` is the first's). */
  sheet_tables?: Array<{ sheet: string; table_id: number; table_name: string }>;
  /** A succeeded import (or a dry run: what it would do): rows added to the table. */
  inserted?: number;
  /** A succeeded import: existing rows it replaced (`on_conflict=update`, matched by `id` or `conflict_key`). */
  updated?: number;
  /** A succeeded import: rows of the file left out because their row exists (`on_conflict=skip`). */
  skipped?: number;
  /** A dry run that succeeded: what the import would store, and how it reads the file. */
  preview?: ImportPreview;
  /** An import that was undone: the undo job that did it. */
  undone_by?: string;
  /** An undo job: the import it undoes. */
  undo_of?: string;
  /** A succeeded undo job: rows the import had inserted, now deleted. */
  deleted?: number;
  /** A succeeded undo job: rows the import had updated, now as they were before it. */
  restored?: number;
  /** The table's name when the job was asked for; for a bundle job, a short English description. */
  table_name?: string;
  /** A bundle export: the names of the tables it holds. */
  tables?: string[];
  /** Unix seconds. */
  created_at: number;
  /** Unix seconds when a worker first started it, or `null` while queued. */
  started_at?: number | null;
  /** Unix seconds, or `null` while not finished. */
  finished_at: number | null;
  /**
   * The outcome mail, once the job ended: `pending` (not sent yet, e.g. SMTP is down), `sent`, or
   * `outbox` (SMTP stayed down past the last attempt; the mail was written to MAIL_OUTBOX_DIR).
   */
  mail_status?: 'pending' | 'sent' | 'outbox' | null;
  /** An export to a location (`destination`): the object it writes, e.g. `s3://bucket/exports/orders_20261121_093000.csv`. */
  destination_url?: string;
  /** The schedule this job is a run of (see docs/schedules.md). */
  schedule_id?: string;
  /** An import from a location (`source`): the object, folder or URL it reads (without any query string). */
  source_url?: string;
}

/** A dry run's look at an import before it is committed. */
export interface ImportPreview {
  /** The first rows (up to 20) as they would be stored, in the shape the records API returns. */
  rows: TableRow[];
  /** Each field the import fills: built-ins the file gives, then the schema's fields in order. */
  columns: Array<{
    field: string;
    type: FieldType;
    /** The file column it comes from (after `mapping`); `null`: not in the file, so its default or empty. */
    source: string | null;
  }>;
  /** File columns `mapping` drops. */
  dropped?: string[];
  /** How the (first) file is read. */
  file: {
    format: FileType;
    gzip: boolean;
    csv_delimiter?: string;
    encoding?: string;
    decimal_separator?: string;
    sheet?: string | number;
  };
}

/** MinApp v1.5's status words for an export job. */
export type MinappExportStatus = 'pending' | 'ready' | 'finish' | 'failed';

/** `GET /oserve/v1/table/:table_id/export/:job_id/`. */
export interface MinappExportJob {
  job_id: string;
  status: MinappExportStatus;
  operation: 'export';
  file_name: string | null;
  file_type: FileType;
  download_url: string | null;
  /** Unix seconds. */
  created_at: number;
  /** Unix seconds. */
  updated_at: number;
}

/** Every error reply. */
export interface ErrorResponse {
  error_code: string;
  error_msg: string;
  /** The request parameter at fault, for `invalid_parameter`. */
  parameter?: string;
  /** Seconds to wait, for `too_frequent`. */
  retry_after?: number;
  /** Further facts, e.g. `{ "limit": 1000000, "rows": 1000001 }` for `too_many_rows`. */
  details?: Record<string, unknown>;
}

/** The stable error codes. */
export const ERROR_CODES = [
  'invalid_parameter',
  'invalid_file',
  'too_frequent',
  'too_many_rows',
  'file_too_large',
  'unauthorized',
  'not_found',
  'table_exists',
  'invalid_signature',
  'link_expired',
  'invalid_row',
  'table_deleted',
  'payload_too_large',
  'internal_error',
  'service_unavailable',
  'insufficient_storage',
  'table_busy',
  'invalid_upload',
  'job_not_cancellable',
  'job_not_retriable',
  'upload_gone',
  'job_timeout',
  'undo_not_possible',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** How a bundle import treats the caller's tables (see `POST /oserve/v1/data/import/`). */
export type BundleImportMode = 'reset' | 'replace' | 'merge';

/** `POST /oserve/v1/data/export/` body. */
export interface BundleExportRequest {
  /** Table names; default every table of the caller. */
  tables?: string[];
  /** Default true; `false` writes only the schemas. */
  include_rows?: boolean;
  /** A MinApp `where` per table name. */
  where?: Record<string, Record<string, unknown>>;
  /** `gzip` compresses the bundle (its name gains `.gz`). */
  compression?: Compression;
}

/** `GET /oserve/v1/data/import/status/`: the caller's latest bundle import, per table `""` or why it failed. */
export interface BundleImportStatus {
  job_id: string;
  status: JobStatus;
  tables: Record<string, string>;
}

/** A webhook as the API shows it: the secret itself is never shown again, only whether one is set. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  has_secret: boolean;
  created_at: number;
}

export type WebhookEvent = 'job.succeeded' | 'job.failed';

/** One attempt to deliver an event to a webhook. */
export interface WebhookDelivery {
  id: number;
  event: WebhookEvent;
  job_id: string;
  attempt: number;
  /** The receiver's HTTP status, or `null` when no answer came (`error` says why). */
  http_status: number | null;
  error: string | null;
  created_at: number;
}

/** A schedule as the server shows it (a destination's credentials are never shown). */
export interface Schedule {
  id: string;
  /** The table exported, or null for a bundle schedule. */
  table_id: number | null;
  /** A bundle schedule's tables (all of yours when empty), or null. */
  tables: string[] | null;
  /** The interval, as `"15m"`, `"1h"`, `"1d"`; null for a cron schedule. */
  every: string | null;
  /** The cron pattern; null for an interval schedule. */
  cron: string | null;
  /** The IANA time zone a cron pattern is read in. */
  timezone: string;
  /** `all`: every run exports the selection; `changes`: only what changed since the last successful run. */
  mode: 'all' | 'changes';
  /** The export's parameters, as the export API takes them. */
  export: Record<string, unknown>;
  paused: boolean;
  /** When the last successful changes run read the table (Unix seconds), or null. */
  watermark_at: number | null;
  /** When a run was last started (Unix seconds), or null. */
  last_run_at: number | null;
  /** When the next run is due (Unix seconds); null while paused. */
  next_run_at: number | null;
  last_job_id: string | null;
  /** Why the last run could not be started (its table deleted, too many rows), or null. */
  last_error: JobError | null;
  created_at: number;
  updated_at: number;
}
