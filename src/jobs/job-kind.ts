/**
 * A job kind is a plug-in of the one job lifecycle (see lifecycle/job-lifecycle.ts). It says what
 * a request of its kind is, how it becomes a job row, and what the job does when it runs; the
 * lifecycle owns how every job is born (the minute, the row, the queue, undone on failure) and how
 * it lives and dies (claim, end, clean up, mail, webhooks, cancel, retry). Adding a kind is a file
 * under kinds/ and one line of the registry in kinds/index.ts, which the compiler holds to JobType.
 */
import type { JobRecord, NewJob } from '../db/repositories/jobs.repository.js';
import type { PoolClient } from '../db/pool.js';
import type { JobType } from '../types/api.js';
import type { WorkQueue } from './job-names.js';

/** What a kind's work gets: the claimed job, the claim's transaction, and a signal to stop early. */
export interface JobRunContext {
  job: JobRecord;
  /** The connection holding the claim, inside its transaction. Writes made here commit with the success, or not at all. */
  db: PoolClient;
  /** Aborted by a cancel, a shutdown past its timeout or the job's deadline: stop, and let the transaction roll back. */
  signal: AbortSignal;
}

/** What a job leaves behind when it succeeds. */
export interface JobResult {
  rows: number;
  file_key?: string | null;
  file_name?: string | null;
  /** What the job did beyond its row count, shown in its view (an import's inserted, updated and skipped rows). */
  result?: Record<string, unknown>;
}

export type JobWork = (ctx: JobRunContext) => Promise<JobResult>;

/** A job about to be born: its row, and what the lifecycle does around inserting it. */
export interface JobPlan {
  row: Omit<NewJob, 'id' | 'type' | 'user_id' | 'upload_key'>;
  /**
   * Whose minute the job takes: a table id, or the user's id for kinds counted per user (bundles).
   * Null takes none: a dry run writes nothing.
   */
  minute: number | null;
  /** Stores the job's input once its minute is taken (an upload): returns its storage key. */
  attach?(jobId: string): Promise<string>;
  /** Undoes what planning made, when the job cannot be born after all (a table it created). */
  undo?(): Promise<void>;
  /** Once the job is queued (a retry hands the old job's upload over). */
  born?(jobId: string): Promise<void>;
  /** Fields the 201 reply carries besides `status` and `job_id` (a created table's id). */
  reply?: Record<string, unknown>;
}

export interface JobKind<T extends JobType = JobType> {
  readonly type: T;
  /** The queue its work runs on (its BullMQ job is named after its type). */
  readonly queue: WorkQueue;
  /** Where its files live: an export's file (and a failed import's report) or an import's upload. */
  readonly folder: 'export' | 'import';
  /** What its minute is counted per. */
  readonly minutePer: 'table' | 'user';
  /** A failed or cancelled job keeps its upload for a retry (until it expires with the links). */
  readonly keepsUploadForRetry: boolean;
  /** The work, inside the claim's transaction. */
  run(ctx: JobRunContext): Promise<JobResult>;
  /**
   * A new job like `old` (POST /jobs/:id/retry), planned as a new request is. Absent: the kind is
   * not retried; `notRetriable` says why.
   */
  retry?(old: JobRecord, jobId: string): Promise<JobPlan>;
  readonly notRetriable?: 'bundle';
}

/** Every kind, by its type: the registry the lifecycle, the sweep and job control look kinds up in. */
export type JobKinds = { [T in JobType]: JobKind<T> };
