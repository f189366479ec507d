import type { Readable } from 'node:stream';
import type { BundleImportStatus, CreateTableRequest, Job, JobCreatedResponse, JobStatus, JobType, Page, Table } from '../types/api.js';
import * as bundles from './bundles.js';
import { InvalidArgumentError } from './errors.js';
import { JobHandle } from './job.js';
import { paginate, type PageOptions } from './paging.js';
import { Schedules } from './schedules.js';
import { TableRef } from './table.js';
import { Transport, type ClientOptions } from './transport.js';

/**
 * The tableport client. One instance per server and token; it holds no connection of its own
 * (Node's `fetch` pools them), so it is cheap to create and safe to share.
 *
 * @example
 * import { TablePort } from 'tableport/sdk';
 *
 * const tp = new TablePort({ baseUrl: 'http://localhost:3000', token: process.env.TABLEPORT_TOKEN! });
 * const table = await tp.createTable({ name: 'orders', schema: { fields: [{ name: 'title', type: 'string' }] } });
 * await tp.table(table.id).insert([{ title: 'first' }, { title: 'second' }]);
 * const job = await tp.table(table.id).export({ fileType: 'csv' });
 * await job.wait();
 * await job.download('./orders.csv');
 */
export class TablePort {
  private readonly transport: Transport;

  /** @throws TypeError when `baseUrl` is not an http(s) URL or `token` is empty. */
  constructor(options: ClientOptions) {
    this.transport = new Transport(options);
  }

  /** Exports that run themselves: create, list, pause, resume, delete schedules and read their runs. */
  get schedules(): Schedules {
    return new Schedules(this.transport);
  }

  /** The server's base URL, without `/oserve/v1`. */
  get baseUrl(): string {
    return this.transport.root;
  }

  /** Creates a table; rejects with `ApiError` `table_exists` when you have one by that name. */
  createTable(request: CreateTableRequest): Promise<Table> {
    return this.transport.json<Table>('POST', '/table/', { json: request });
  }

  /** One page of your tables. */
  async listTables(page: PageOptions = {}): Promise<Page<Table>> {
    const res = await this.transport.json<Page<Table> | Table[]>('GET', '/table/', { query: { ...page } });
    return Array.isArray(res) ? arrayPage(res) : res;
  }

  /** All your tables, page after page. */
  tables(options: PageOptions = {}): AsyncGenerator<Table> {
    return paginate<Table>(this.transport, '/table/', options);
  }

  /** A table; rejects with `NotFoundError` when there is no such table of yours. */
  getTable(id: number | string): Promise<Table> {
    return this.table(id).get();
  }

  /** Deletes a table and its rows. */
  deleteTable(id: number | string): Promise<void> {
    return this.table(id).delete();
  }

  /** A handle on one table, for its rows, exports and imports. Sends nothing by itself. */
  table(id: number | string): TableRef {
    const n = typeof id === 'number' ? id : /^\d+$/.test(id) ? Number(id) : Number.NaN;
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`Not a table id: ${String(id)}.`);
    return new TableRef(this.transport, n);
  }

  /** A handle on a job by its id (from an export, an import, or `listJobs`). Sends nothing by itself. */
  job(id: string): JobHandle {
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError('A job id is a non-empty string.');
    return new JobHandle(this.transport, id);
  }

  /** Runs a failed or cancelled job again as a new job (see {@link JobHandle.retry}); resolves with the new job's handle. */
  retryJob(id: string): Promise<JobHandle> {
    return this.job(id).retry();
  }

  /** Undoes a succeeded import as a new `undo` job (see {@link JobHandle.undo}); resolves with the undo job's handle. */
  undoJob(id: string): Promise<JobHandle> {
    return this.job(id).undo();
  }

  /** One page of your jobs, newest first; `status`, `type` and `tableId` narrow it. */
  listJobs(page: PageOptions & JobsFilterOptions = {}): Promise<Page<Job>> {
    return this.transport.json<Page<Job>>('GET', '/jobs/', { query: jobsQuery(page) });
  }

  /**
   * Runs one of CnosDB's `COPY INTO` statements (tables named by name): an export to, or an import
   * from, a location. Resolves with the job; rejects with `InvalidParameterError` (with the line
   * and column) when the statement does not parse, `NotFoundError` for an unknown table.
   *
   * @example
   * const job = await tp.sql("COPY INTO 's3://bucket/air/' FROM air FILE_FORMAT = (TYPE = 'CSV')");
   * await job.wait();
   */
  async sql(statement: string): Promise<JobHandle> {
    if (typeof statement !== 'string' || statement.trim() === '') throw new InvalidArgumentError('sql() needs a COPY INTO statement.');
    const res = await this.transport.json<JobCreatedResponse>('POST', '/sql', { json: { sql: statement } });
    return new JobHandle(this.transport, res.job_id);
  }

  /** All your jobs, newest first, page after page; `status`, `type` and `tableId` narrow them. */
  jobs(options: PageOptions & JobsFilterOptions = {}): AsyncGenerator<Job> {
    return paginate<Job>(this.transport, '/jobs/', jobsQuery(options));
  }

  /**
   * Exports several tables (default: all of yours), their schemas and rows, as one bundle file: a
   * background job whose file is downloaded with `job.download(path)` once `job.wait()` resolves.
   *
   * @example
   * const job = await tp.exportBundle({ tables: ['orders', 'customers'] });
   * await job.wait();
   * await job.download('./backup.json');
   */
  exportBundle(options: bundles.BundleExportOptions = {}): Promise<JobHandle> {
    return bundles.exportBundle(this.transport, options);
  }

  /**
   * The bundle itself, streamed back at once (eKuiper's download): for schemas only
   * (`includeRows: false`) or at most 10,000 rows; more is `TooManyRowsError` (use {@link exportBundle}).
   */
  downloadBundle(options: bundles.BundleDownloadOptions = {}): Promise<Readable> {
    return bundles.downloadBundle(this.transport, options);
  }

  /**
   * Imports a bundle as one all-or-nothing job: `mode` `reset` (default; your workspace becomes the
   * bundle), `replace` or `merge`. Wait with `job.wait()`; {@link importStatus} says per table what happened.
   *
   * @example
   * const job = await tp.importBundle('./backup.json', { mode: 'replace', rename: { orders: 'orders_2024' } });
   * await job.wait();
   */
  importBundle(source: bundles.BundleSource, options: bundles.BundleImportOptions = {}): Promise<JobHandle> {
    return bundles.importBundle(this.transport, source, options);
  }

  /** Your latest bundle import: its job, status, and per table `""` or why it failed. */
  importStatus(): Promise<BundleImportStatus> {
    return bundles.importStatus(this.transport);
  }
}

function arrayPage<T>(objects: T[]): Page<T> {
  return { meta: { limit: objects.length, offset: 0, total_count: objects.length, next: null, previous: null }, objects };
}

/** Which jobs a listing keeps (each one value or several). */
export interface JobsFilterOptions {
  status?: JobStatus | JobStatus[];
  type?: JobType | JobType[];
  /** Only this table's jobs (bundle jobs span tables and are left out). */
  tableId?: number;
}

function jobsQuery(o: PageOptions & JobsFilterOptions): Record<string, string | number | undefined> {
  const list = (v: string | string[] | undefined) => (v === undefined ? undefined : [v].flat().join(','));
  return { limit: o.limit, offset: o.offset, status: list(o.status), type: list(o.type), table_id: o.tableId };
}
