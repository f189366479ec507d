import type {
  OnConflict,
  BulkInsertResponse,
  Compression,
  ExportMode,
  ExportRequest,
  FileType,
  ImportFromSourceRequest,
  JobCreatedResponse,
  LocationConnection,
  MinappExportJob,
  RecordPage,
  RowInput,
  Table,
  TableRow,
  WhereQuery,
} from '../types/api.js';
import { InvalidArgumentError } from './errors.js';
import { JobHandle } from './job.js';
import { paginate, type PageOptions } from './paging.js';
import { RowRef } from './row.js';
import { toUnixSeconds, type TimeInput } from './time.js';
import type { Transport } from './transport.js';
import { buildUpload, type ImportOptions, type ImportSource } from './upload.js';

/** Options of {@link TableRef.export}. */
export interface ExportOptions {
  /** `csv`, `json`, `ndjson`, `sql` (and `parquet`, `xlsx` where the server has them). */
  fileType: FileType;
  /** `gzip` compresses the file (its name gains `.gz`). */
  compression?: Compression;
  /** CSV: the cell separator, one character (default `,`). */
  csvDelimiter?: string;
  /** CSV: write the header line (default true). */
  csvHeader?: boolean;
  /** CSV: start with a UTF-8 byte order mark, for Excel (default false). */
  csvBom?: boolean;
  /**
   * CSV: text cells starting with `=`, `+`, `-`, `@`, TAB or CR get a leading `'`, so a spreadsheet
   * does not run them as formulas (default false: the file imports back unchanged).
   */
  csvEscapeFormulas?: boolean;
  /** `all` rows, or `part`: rows whose `created_at` is in `[start, end)`. Default: `part` when `start` or `end` is given, else `all`. */
  mode?: ExportMode;
  /** Inclusive lower bound of `created_at`: Unix seconds, a `Date` or an ISO 8601 string. */
  start?: TimeInput;
  /** Exclusive upper bound of `created_at`: Unix seconds, a `Date` or an ISO 8601 string. */
  end?: TimeInput;
  /** Only rows matching this MinApp query (ANDed with `start`/`end`). */
  where?: WhereQuery;
  /** Only these columns, in this order (built-ins included). Not with `excludeKeys`. */
  includeKeys?: string[];
  /** Every column but these. Not with `includeKeys`. */
  excludeKeys?: string[];
  /** Sort keys, `-` for descending, e.g. `['-price', 'title']`; default `['created_at']`; ties by `id`. */
  orderBy?: string[];
  /** CSV only: header names, one per exported column, in order. */
  csvCustomizeHeaders?: string[];
  /** Columns holding Unix seconds (`created_at`, `updated_at`, integer fields) to write as ISO 8601 UTC text. */
  timestampConvertKeys?: string[];
  /**
   * Write the file to an object store or server folder instead of behind a download link:
   * `s3://bucket/prefix/` (a trailing `/` gets the generated file name), `gcs://...`, `azblob://...`, `file:///...`.
   */
  destination?: string;
  /** CnosDB's connection options for `destination`, e.g. `{ region, access_key_id, secret_key }`. */
  connection?: LocationConnection;
  /**
   * Only rows created or updated since then (Unix seconds, a `Date` or ISO 8601), and the ids of
   * rows deleted since, as rows whose `_deleted` column is true (docs/changes.md).
   */
  changesSince?: TimeInput;
}

/** Options of {@link TableRef.importFrom}. */
export interface ImportFromOptions {
  /** CnosDB's connection options for the source. */
  connection?: LocationConnection;
  /** The file type; otherwise read from the content. */
  fileType?: FileType;
  /** CSV: the cell separator, one character (default: found among , ; TAB |). */
  csvDelimiter?: string;
  /** CSV: `false` when the first line is data (then name the columns in `columns`). */
  csvHeader?: boolean;
  /** CSV without a header: its columns, in order. */
  columns?: string[];
  /** Text files: their encoding (`utf-16le`, `gb18030`, `big5`, `shift_jis`, `windows-1252`, ...); the server detects UTF-8, UTF-16 and clear GB18030 itself. */
  encoding?: string;
  /** CSV number fields: the decimal separator, `.` or `,` (then `.` and spaces group thousands); detected with the `;` dialect when unambiguous. */
  decimalSeparator?: '.' | ',';
  /** xlsx: the sheet to read, by name or 1-based index; default the one sheet whose header matches the table. */
  sheet?: string | number;
  /** File column → the field it fills, or `null` to drop the column. */
  mapping?: Record<string, string | null>;
  /** A row whose id (or `conflictKey`) is already in the table: `error` (default), `skip` it, or `update` the row. */
  onConflict?: OnConflict;
  /** With `onConflict` `skip` or `update`: the field(s) that find a row's existing row instead of `id`. */
  conflictKey?: string | string[];
  /** Validate the whole source and write nothing; the job's `preview` shows what would be stored. */
  dryRun?: boolean;
}

/** Which rows, in which order, and which page of them. */
export interface RowQuery extends PageOptions {
  /** A MinApp query, e.g. `{ price: { $gte: 10 }, $or: [{ paid: true }, { tags: { $contains: 'vip' } }] }`. */
  where?: WhereQuery;
  /** Sort keys, `-` for descending (`'-price,title'` or `['-price', 'title']`); ties are broken by `id`. */
  orderBy?: string | string[];
}

function rowQuery(q: RowQuery, defaultOrder?: string): Record<string, string | number | undefined> {
  const orderBy = Array.isArray(q.orderBy) ? q.orderBy.join(',') : q.orderBy;
  return {
    limit: q.limit,
    offset: q.offset,
    where: q.where === undefined ? undefined : JSON.stringify(q.where),
    order_by: orderBy ?? defaultOrder,
  };
}

/**
 * One table, by id. Creating it sends nothing; every method asks the server (a table that does not
 * exist, or is another user's, rejects with `NotFoundError`).
 */
export class TableRef {
  /** @internal */
  constructor(
    private readonly transport: Transport,
    /** The table's id. */
    readonly id: number,
  ) {}

  private path(suffix = ''): string {
    return `/table/${this.id}/${suffix}`;
  }

  /** The table: name, schema, row count. */
  get(): Promise<Table> {
    return this.transport.json<Table>('GET', this.path());
  }

  /** Deletes the table and its rows. */
  async delete(): Promise<void> {
    await this.transport.json<unknown>('DELETE', this.path());
  }

  /** Inserts one row; resolves with the row as stored (with its `id` and `created_at`). */
  insert(row: RowInput): Promise<TableRow>;
  /** Inserts up to 1,000 rows in one call, all or none; resolves with each new row's `id` and `created_at`. */
  insert(rows: RowInput[]): Promise<BulkInsertResponse>;
  insert(rows: RowInput | RowInput[]): Promise<TableRow | BulkInsertResponse> {
    return this.transport.json('POST', this.path('record/'), { json: rows });
  }

  /**
   * One page of rows matching `where`, in `orderBy` order (default: the server's, newest first).
   * A page of large rows may hold fewer than `limit` (the server caps a page's bytes; `meta.next` goes on).
   */
  listRows(query: RowQuery = {}): Promise<RecordPage> {
    return this.transport.json<RecordPage>('GET', this.path('record/'), { query: rowQuery(query) });
  }

  /**
   * Every row matching `where` (from `offset` on), page after page following the server's `next`
   * link; ordered by `orderBy`, by default `created_at` then `id` (oldest first, so rows added
   * while iterating come last instead of shifting the pages).
   *
   * @example
   * for await (const row of tp.table(42).rows({ where: { qty: { $gt: 0 } }, orderBy: '-qty' })) console.log(row.id);
   */
  rows(query: RowQuery = {}): AsyncGenerator<TableRow> {
    return paginate<TableRow>(this.transport, this.path('record/'), rowQuery(query, 'created_at'));
  }

  /**
   * One row by id, to read, update or delete it.
   *
   * @example
   * const row = await tp.table(42).row('6f1c...').update({ qty: { $incr_by: 1 } });
   */
  row(id: string): RowRef {
    if (typeof id !== 'string' || id === '') throw new InvalidArgumentError('row() needs a row id.');
    return new RowRef(this.transport, this.id, id);
  }

  /**
   * Queues an export of the table's rows to a file (`fileType`, optionally gzip-compressed).
   * Rejects with `TooFrequentError` when an export of this table was queued less than a minute ago,
   * `TooManyRowsError` when the selection is over the server's cap, `InvalidParameterError` otherwise.
   *
   * @example
   * const job = await tp.table(42).export({ fileType: 'csv', start: '2024-01-01T00:00:00Z' });
   */
  async export(options: ExportOptions): Promise<JobHandle> {
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('export() needs { fileType }.');
    const body = exportBody(options);
    const res = await this.transport.json<JobCreatedResponse>('POST', this.path('export/'), { json: body });
    return new JobHandle(this.transport, res.job_id);
  }

  /**
   * Queues an import of a CSV, JSON or NDJSON file (the shapes export writes; gzip-compressed or not,
   * the server reads the format from the content) into the table. The file is streamed, never held
   * whole in memory. `options` also carry the CSV dialect, `onConflict`, `dryRun` and `email`. An import is all or nothing: `job.wait()` rejects with
   * `JobFailedError` listing the bad rows' lines when any row is invalid.
   * Rejects now with `InvalidFileError`, `FileTooLargeError` or `TooFrequentError` when the server refuses it.
   *
   * @param source A file path, a `Buffer`, a `Blob`/`File`, or a readable stream.
   * @param options `filename` (its extension gives the format) is needed for a Buffer, a nameless Blob or a stream not opened from a path.
   * @example
   * const job = await tp.table(42).import('./orders.csv');
   * const done = await job.wait();
   * console.log(done.rows, 'rows imported');
   */
  async import(source: ImportSource, options: ImportOptions = {}): Promise<JobHandle> {
    const upload = await buildUpload(source, options);
    const res = await this.transport.upload<JobCreatedResponse>(this.path('import/'), upload);
    return new JobHandle(this.transport, res.job_id);
  }

  /**
   * Queues an import of a file at a location instead of an upload: an object store (`s3://`,
   * `gcs://`, `azblob://`), a URL (`https://`) or a server folder (`file:///`). A source ending in
   * `/` imports every object under it, in name order, as one all-or-nothing job.
   *
   * @example
   * const job = await tp.table(42).importFrom('s3://landing/orders/', { connection: { region: 'eu-west-1' } });
   * await job.wait();
   */
  async importFrom(source: string, options: ImportFromOptions = {}): Promise<JobHandle> {
    if (typeof source !== 'string' || source === '') throw new InvalidArgumentError('importFrom() needs a source URL.');
    const body: ImportFromSourceRequest = { source };
    if (options.connection !== undefined) body.connection = options.connection;
    if (options.fileType !== undefined) body.file_type = options.fileType;
    if (options.csvDelimiter !== undefined) body.csv_delimiter = options.csvDelimiter;
    if (options.csvHeader !== undefined) body.csv_header = options.csvHeader;
    if (options.columns !== undefined) body.columns = options.columns;
    if (options.encoding !== undefined) body.encoding = options.encoding;
    if (options.decimalSeparator !== undefined) body.decimal_separator = options.decimalSeparator;
    if (options.sheet !== undefined) body.sheet = options.sheet;
    if (options.mapping !== undefined) body.mapping = options.mapping;
    if (options.onConflict !== undefined) body.on_conflict = options.onConflict;
    if (options.conflictKey !== undefined) body.conflict_key = options.conflictKey;
    if (options.dryRun !== undefined) body.dry_run = options.dryRun;
    const res = await this.transport.json<JobCreatedResponse>('POST', this.path('import/'), { json: body });
    return new JobHandle(this.transport, res.job_id);
  }

  /** The table's export jobs in MinApp v1.5's shape, newest first, following `next`. */
  exports(options: PageOptions = {}): AsyncGenerator<MinappExportJob> {
    return paginate<MinappExportJob>(this.transport, this.path('export/'), options);
  }
}

/** @internal The export request of {@link ExportOptions} (also a schedule's `export`). */
export function exportBody(options: ExportOptions): ExportRequest {
  const hasRange = options.start !== undefined || options.end !== undefined;
  const body: ExportRequest = { file_type: options.fileType, mode: options.mode ?? (hasRange ? 'part' : 'all') };
  if (options.start !== undefined) body.start = toUnixSeconds(options.start, 'floor', 'start');
  if (options.end !== undefined) body.end = toUnixSeconds(options.end, 'ceil', 'end');
  if (options.compression !== undefined) body.compression = options.compression;
  if (options.csvDelimiter !== undefined) body.csv_delimiter = options.csvDelimiter;
  if (options.csvHeader !== undefined) body.csv_header = options.csvHeader;
  if (options.csvBom !== undefined) body.csv_bom = options.csvBom;
  if (options.csvEscapeFormulas !== undefined) body.csv_escape_formulas = options.csvEscapeFormulas;
  if (options.where !== undefined) body.where = options.where;
  if (options.includeKeys !== undefined) body.include_keys = options.includeKeys;
  if (options.excludeKeys !== undefined) body.exclude_keys = options.excludeKeys;
  if (options.orderBy !== undefined) body.order_by = options.orderBy;
  if (options.csvCustomizeHeaders !== undefined) body.csv_customize_headers = options.csvCustomizeHeaders;
  if (options.timestampConvertKeys !== undefined) body.timestamp_convert_keys = options.timestampConvertKeys;
  if (options.destination !== undefined) body.destination = options.destination;
  if (options.connection !== undefined) body.connection = options.connection;
  if (options.changesSince !== undefined) body.changes_since = toUnixSeconds(options.changesSince, 'floor', 'changesSince');
  return body;
}
