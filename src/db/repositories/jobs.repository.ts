import type { Compression, FileType, JobError, JobStatus, JobType, OnConflict, TableSchema } from '../../types/api.js';
import type { Pool, PoolClient } from '../pool.js';
import { singleRow } from '../single-row.js';
import type { ExportSelection } from '../table-sql.js';
import { storableJson, storableText } from '../../formats/storable-text.js';

export interface ExportParams extends ExportSelection {
  file_type: FileType;
  mode: 'all' | 'part';
  start?: number;
  end?: number;
  /** Rows selected when the export was asked for: the progress bar's 100%. */
  expected_rows?: number;
  compression?: Compression;
  csv_delimiter?: string;
  csv_header?: boolean;
  csv_bom?: boolean;
  /** CSV: text cells a spreadsheet would run as formulas get a leading `'`. */
  csv_escape_formulas?: boolean;
  /** A run of this schedule: with `changes.after`, its watermark is read and advanced at run time. */
  schedule_id?: string;
}

export interface ImportParams {
  format: FileType;
  original_name: string | null;
  size: number;
  /** The upload is gzip-compressed. */
  gzip?: boolean;
  csv_delimiter?: string;
  csv_header?: boolean;
  columns?: string[];
  /** Text formats: the encoding the file is read in (named by the user, or found in an upload). */
  encoding?: string;
  /** CSV: the decimal separator of number cells (named by the user, or found in an upload). */
  decimal_separator?: '.' | ',';
  /** xlsx: the sheet read (named by the user, or found in an upload). */
  sheet?: string;
  /** `sheets=all`: each sheet of the workbook and the table made for it, read in this order in one transaction. */
  sheet_tables?: Array<{ sheet: string; table_id: number; table_name: string }>;
  /** File column → field, or `null` to drop it. */
  mapping?: Record<string, string | null>;
  on_conflict?: OnConflict;
  /** The fields `on_conflict` matches existing rows on; absent: `id`. */
  conflict_key?: string[];
  /** Validate only: nothing is written. */
  dry_run?: boolean;
  /** `false`: no mail when the job ends. */
  email?: boolean;
  /** The schema inferred from the file, for an import that created its table. */
  inferred_schema?: TableSchema;
  /** An import from a location without file_type: each file's format is read from its content. */
  detect_format?: boolean;
}

/** An undo job: the import it undoes. */
export interface UndoParams {
  import_job_id: string;
  /** Undo jobs are asked for and watched through the API; no mail. */
  email: false;
}

export interface JobRecord {
  id: string;
  type: JobType;
  user_id: number;
  /** `null` for a bundle job, which spans tables. */
  table_id: number | null;
  table_name: string;
  status: JobStatus;
  progress: number;
  rows: number;
  params: ExportParams | ImportParams | UndoParams;
  file_type: FileType | null;
  file_name: string | null;
  file_key: string | null;
  upload_key: string | null;
  errors: JobError[];
  error_count: number;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
  mail_sent_at: Date | null;
  mail_status: 'sent' | 'outbox' | null;
  /** Exports to a location: the object written; imports from one: the URL or folder read. Never a credential. */
  destination_url: string | null;
  source_url: string | null;
  /** `{url, connection}` sealed for this job (src/services/task-locations.ts); never shown. */
  location_sealed: string | null;
  /** What the job did beyond its row count (JobResult.result), once it succeeded. */
  result: Record<string, unknown> | null;
  /** The schedule this job is a run of. */
  schedule_id: string | null;
}

export interface NewJob {
  id: string;
  type: JobType;
  user_id: number;
  /** `null` for a bundle job, which spans tables. */
  table_id: number | null;
  table_name: string;
  params: ExportParams | ImportParams | UndoParams;
  file_type: FileType | null;
  file_name: string | null;
  upload_key: string | null;
  destination_url?: string | null;
  source_url?: string | null;
  location_sealed?: string | null;
  schedule_id?: string | null;
}

type Queryable = Pick<Pool, 'query'> | PoolClient;

// clock_timestamp(), not now(): an import marks its job inside its own long transaction, where
// now() would be the moment the transaction began, not when the job ended.
export class JobsRepository {
  constructor(private readonly pool: Pool) {}

  async insert(job: NewJob): Promise<JobRecord> {
    const { rows } = await this.pool.query<JobRecord>(
      `INSERT INTO tableport.jobs (id, type, user_id, table_id, table_name, params, file_type, file_name, upload_key,
                                   destination_url, source_url, location_sealed, schedule_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
      [
        job.id,
        job.type,
        job.user_id,
        job.table_id,
        storableText(job.table_name),
        storableJson(job.params),
        job.file_type,
        job.file_name === null ? null : storableText(job.file_name),
        job.upload_key,
        job.destination_url ?? null,
        job.source_url ?? null,
        job.location_sealed ?? null,
        job.schedule_id ?? null,
      ],
    );
    return singleRow(rows, 'INSERT INTO tableport.jobs');
  }

  async delete(id: string): Promise<void> {
    await this.pool.query('DELETE FROM tableport.jobs WHERE id = $1', [id]);
  }

  /** The job if it exists and belongs to `userId` (`null`: any user). */
  async get(id: string, userId: number | null): Promise<JobRecord | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query<JobRecord>(
      'SELECT * FROM tableport.jobs WHERE id = $1 AND ($2::bigint IS NULL OR user_id = $2)',
      [id, userId],
    );
    return rows[0] ?? null;
  }

  async list(
    filter: { userId: number; tableId?: number; type?: JobType; types?: JobType[]; statuses?: JobStatus[] },
    limit: number,
    offset: number,
  ): Promise<{ total: number; jobs: JobRecord[] }> {
    const where =
      'user_id = $1 AND ($2::bigint IS NULL OR table_id = $2) AND ($3::text IS NULL OR type = $3)' +
      ' AND ($4::text[] IS NULL OR type = ANY($4)) AND ($5::text[] IS NULL OR status = ANY($5))';
    const args = [filter.userId, filter.tableId ?? null, filter.type ?? null, filter.types ?? null, filter.statuses ?? null];
    const [count, page] = await Promise.all([
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM tableport.jobs WHERE ${where}`, args),
      this.pool.query<JobRecord>(`SELECT * FROM tableport.jobs WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7`, [
        ...args,
        limit,
        offset,
      ]),
    ]);
    return { total: singleRow(count.rows, 'The job count').n, jobs: page.rows };
  }

  /**
   * Marks the job running for an attempt that holds its claim, and starts its heartbeat. Returns
   * null when it already ended (a re-delivered job that finished before a crash), so the caller
   * does not redo the work.
   */
  async start(id: string, claimPid: number | null, db: Queryable = this.pool): Promise<JobRecord | null> {
    const { rows } = await db.query<JobRecord>(
      `UPDATE tableport.jobs
          SET status = 'running', progress = 0, attempts = attempts + 1,
              started_at = coalesce(started_at, clock_timestamp()), updated_at = clock_timestamp(),
              heartbeat_at = clock_timestamp(), claim_pid = $2
        WHERE id = $1 AND status IN ('queued', 'running')
        RETURNING *`,
      [id, claimPid],
    );
    return rows[0] ?? null;
  }

  /**
   * How many jobs of `userId` other than `id` are running now: with a heartbeat younger than
   * `staleSeconds` (a row left "running" by an attempt that died does not hold the user back).
   * Taken under a transaction-scoped lock on the user, so two workers starting two of the user's
   * jobs at once count each other: the caller starts its job in the same transaction.
   */
  async runningOfUser(db: PoolClient, userId: number, id: string, staleSeconds: number): Promise<number> {
    await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('tableport.user:' || $1, 0))`, [userId]);
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tableport.jobs
        WHERE user_id = $1 AND status = 'running' AND id <> $2 AND heartbeat_at > clock_timestamp() - make_interval(secs => $3)`,
      [userId, id, staleSeconds],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * A running attempt's sign of life, written only while its session still holds the claim.
   * Returns the job's status, so the attempt learns at once that the job was cancelled or ended
   * elsewhere (without a message from the API reaching it), or `taken` when another attempt has
   * the job now (this one was fenced off while it was not living).
   */
  async heartbeat(id: string, claimPid: number): Promise<JobStatus | 'taken' | null> {
    const { rows } = await this.pool.query<{ mine: boolean; status: JobStatus }>(
      `WITH beat AS (
         UPDATE tableport.jobs SET heartbeat_at = clock_timestamp() WHERE id = $1 AND claim_pid = $2 RETURNING id
       )
       SELECT EXISTS (SELECT 1 FROM beat) AS mine, status FROM tableport.jobs WHERE id = $1`,
      [id, claimPid],
    );
    const row = rows[0];
    if (!row) return null;
    return row.mine ? row.status : 'taken';
  }

  /** The attempt whose claim was held by `claimPid` ended: it no longer counts as living (another attempt's heartbeat stays). */
  async endHeartbeat(id: string, claimPid: number): Promise<void> {
    await this.pool.query('UPDATE tableport.jobs SET heartbeat_at = NULL WHERE id = $1 AND claim_pid = $2', [id, claimPid]);
  }

  /**
   * The backend holding the job's claim, when its attempt has stopped living: its heartbeat is
   * older than `staleSeconds` and so is its claim's transaction (an attempt that claimed a moment
   * ago has not written its first heartbeat yet). Null when the claim is free or its holder lives.
   */
  async staleClaimHolder(id: string, staleSeconds: number): Promise<number | null> {
    const { rows } = await this.pool.query<{ pid: number }>(
      `WITH k AS (SELECT hashtextextended('tableport.job:' || $1, 0) AS key)
       SELECT l.pid
         FROM k, pg_locks l
         JOIN pg_stat_activity a ON a.pid = l.pid
         JOIN tableport.jobs j ON j.id = $1::uuid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ((k.key >> 32) & 4294967295)::oid AND l.objid = (k.key & 4294967295)::oid
          AND a.xact_start < clock_timestamp() - make_interval(secs => $2)
          AND (j.heartbeat_at IS NULL OR j.heartbeat_at < clock_timestamp() - make_interval(secs => $2))`,
      [id, staleSeconds],
    );
    return rows[0]?.pid ?? null;
  }

  /**
   * Ends a backend (and so its transaction, which rolls back, and the claim it held), waiting up
   * to `waitMs` for it to be gone. The fence against an attempt that stopped living while it held
   * a job: whatever it does when it wakes up fails on its lost connection.
   */
  async terminateBackend(pid: number, waitMs: number): Promise<boolean> {
    const { rows } = await this.pool.query<{ ok: boolean }>('SELECT pg_terminate_backend($1, $2) AS ok', [pid, waitMs]);
    return rows[0]?.ok === true;
  }

  /** The backend of `client`, to fence it later. */
  async backendPid(client: PoolClient): Promise<number> {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return rows[0]?.pid ?? 0;
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.pool.query(`UPDATE tableport.jobs SET progress = $2, updated_at = clock_timestamp() WHERE id = $1 AND status = 'running'`, [
      id,
      Math.max(0, Math.min(99, Math.floor(progress))),
    ]);
  }

  /** Marks success; `db` may be the import's own transaction so rows and status commit together. */
  async succeed(
    id: string,
    fields: { rows: number; file_key?: string | null; file_name?: string | null; result?: Record<string, unknown> },
    db: Queryable = this.pool,
  ): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE tableport.jobs
          SET status = 'succeeded', progress = 100, rows = $2,
              file_key = coalesce($3, file_key), file_name = coalesce($4, file_name), result = $5,
              errors = '[]', error_count = 0, finished_at = clock_timestamp(), updated_at = clock_timestamp()
        WHERE id = $1 AND status IN ('queued', 'running')`,
      [id, fields.rows, fields.file_key ?? null, fields.file_name ?? null, fields.result ? storableJson(fields.result) : null],
    );
    return rowCount === 1;
  }

  /** Marks failure once; returns false when the job had already ended (so no second mail). */
  async fail(id: string, errors: JobError[], errorCount: number, db: Queryable = this.pool): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE tableport.jobs
          SET status = 'failed', errors = $2, error_count = $3, finished_at = clock_timestamp(), updated_at = clock_timestamp()
        WHERE id = $1 AND status IN ('queued', 'running')`,
      [id, storableJson(errors), errorCount],
    );
    return rowCount === 1;
  }

  /**
   * Ends a queued or running job as cancelled. Returns the job, or null when it had already ended.
   * A running attempt finds the row ended when it tries to succeed, and rolls back.
   */
  async cancel(id: string): Promise<JobRecord | null> {
    const { rows } = await this.pool.query<JobRecord>(
      `UPDATE tableport.jobs SET status = 'cancelled', finished_at = clock_timestamp(), updated_at = clock_timestamp()
        WHERE id = $1 AND status IN ('queued', 'running') RETURNING *`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Uploads that failed and cancelled imports keep for a retry, of jobs that ended before `before`. */
  async keptUploads(before: Date, limit: number): Promise<Array<{ id: string; upload_key: string }>> {
    const { rows } = await this.pool.query<{ id: string; upload_key: string }>(
      `SELECT id, upload_key FROM tableport.jobs
        WHERE upload_key IS NOT NULL AND status IN ('failed', 'cancelled') AND finished_at < $1 ORDER BY finished_at LIMIT $2`,
      [before, limit],
    );
    return rows;
  }

  /** Keeps the errors of an attempt that will be retried, so a user watching sees why it is slow. */
  async noteRetry(id: string, error: JobError): Promise<void> {
    await this.pool.query(
      `UPDATE tableport.jobs SET status = 'queued', errors = $2, updated_at = clock_timestamp() WHERE id = $1 AND status = 'running'`,
      [id, storableJson([error])],
    );
  }

  /** An inferring import's schema, once the whole file widened it (see imports.service.ts). */
  async setInferredSchema(id: string, schema: TableSchema): Promise<void> {
    await this.pool.query(`UPDATE tableport.jobs SET params = jsonb_set(params, '{inferred_schema}', $2::jsonb) WHERE id = $1`, [
      id,
      storableJson(schema),
    ]);
  }

  /** How an import from a location found its file(s) written (their encoding, decimal separator), for the job's view. */
  async setReadAs(id: string, found: Pick<ImportParams, 'encoding' | 'decimal_separator'>): Promise<void> {
    await this.pool.query('UPDATE tableport.jobs SET params = params || $2::jsonb WHERE id = $1', [id, JSON.stringify(found)]);
  }

  /** A queued or running undo of the import `importJobId`: its id, or null. */
  async pendingUndoOf(importJobId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM tableport.jobs WHERE type = 'undo' AND status IN ('queued', 'running') AND params->>'import_job_id' = $1 LIMIT 1`,
      [importJobId],
    );
    return rows[0]?.id ?? null;
  }

  /** The import `importJobId` was undone by job `undoJobId` (in the undo's transaction). */
  async markUndone(importJobId: string, undoJobId: string, db: Queryable = this.pool): Promise<void> {
    await db.query(
      `UPDATE tableport.jobs SET result = coalesce(result, '{}'::jsonb) || jsonb_build_object('undone_by', $2::text) WHERE id = $1`,
      [importJobId, undoJobId],
    );
  }

  /** A failed import's error report (stored like an export file). */
  async setErrorReport(id: string, fileKey: string): Promise<void> {
    await this.pool.query('UPDATE tableport.jobs SET file_key = $2 WHERE id = $1', [id, fileKey]);
  }

  async clearUpload(id: string): Promise<void> {
    await this.pool.query('UPDATE tableport.jobs SET upload_key = NULL WHERE id = $1', [id]);
  }

  /** Finished exports whose files are still stored but whose links expired before `before`. */
  async expiredExportFiles(before: Date, limit: number): Promise<Array<{ id: string; file_key: string }>> {
    const { rows } = await this.pool.query<{ id: string; file_key: string }>(
      `SELECT id, file_key FROM tableport.jobs
        WHERE (type IN ('export', 'bundle_export') AND status = 'succeeded' OR type = 'import') AND file_key IS NOT NULL AND finished_at < $1
        ORDER BY finished_at LIMIT $2`,
      [before, limit],
    );
    return rows;
  }

  async forgetFile(id: string): Promise<void> {
    await this.pool.query('UPDATE tableport.jobs SET file_key = NULL WHERE id = $1', [id]);
  }

  async markMailSent(id: string, via: 'sent' | 'outbox' = 'sent'): Promise<void> {
    await this.pool.query('UPDATE tableport.jobs SET mail_sent_at = clock_timestamp(), mail_status = $2 WHERE id = $1', [id, via]);
  }

  /**
   * Takes the job's claim for the rest of `client`'s open transaction, or returns false at once when
   * another attempt holds it. A transaction-scoped advisory lock keyed on the job, not a row lock:
   * progress updates and the API must keep writing and reading the job row while an attempt runs.
   * PostgreSQL drops it when the attempt's transaction ends or its connection dies (a killed worker).
   */
  async tryClaim(client: PoolClient, id: string): Promise<boolean> {
    const { rows } = await client.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtextextended('tableport.job:' || $1, 0)) AS ok`,
      [id],
    );
    return rows[0]?.ok === true;
  }

  /** Unfinished jobs not touched since `before`: candidates for the sweep. */
  async unfinishedSince(before: Date, limit: number): Promise<JobRecord[]> {
    const { rows } = await this.pool.query<JobRecord>(
      `SELECT * FROM tableport.jobs WHERE status IN ('queued', 'running') AND updated_at < $1 ORDER BY updated_at LIMIT $2`,
      [before, limit],
    );
    return rows;
  }

  /** Finished jobs whose mail is still owed, finished before `before`. */
  async mailOwedSince(before: Date, limit: number): Promise<JobRecord[]> {
    const { rows } = await this.pool.query<JobRecord>(
      `SELECT * FROM tableport.jobs WHERE mail_sent_at IS NULL AND status IN ('succeeded', 'failed') AND finished_at < $1
        ORDER BY finished_at LIMIT $2`,
      [before, limit],
    );
    return rows;
  }

  /** Puts a job back in line (an attempt handed back at shutdown); its row must not look running. */
  async requeue(id: string): Promise<void> {
    await this.pool.query(
      `UPDATE tableport.jobs SET status = 'queued', updated_at = clock_timestamp() WHERE id = $1 AND status = 'running'`,
      [id],
    );
  }

  /** Marks the sweep's look at an unfinished job, so the next sweep waits a grace period again. */
  async touch(id: string): Promise<void> {
    await this.pool.query(`UPDATE tableport.jobs SET updated_at = clock_timestamp() WHERE id = $1 AND status IN ('queued', 'running')`, [
      id,
    ]);
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
