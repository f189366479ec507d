/**
 * Where jobs wait: one interface for every queue backend (Redis, PostgreSQL), so the job lifecycle,
 * the workers and the API never know which one they run on. BullMQ already puts its queues behind
 * `IQueueBackend`; this adds what tableport does beside BullMQ (the per-table minute, the cancel
 * signal, health) with one implementation per backend, as BullMQ keeps its Redis keys and Lua in one
 * place.
 */
import type { Job, JobsOptions, Queue, Worker } from 'bullmq';
import type { QueueName } from '../jobs/job-names.js';

/** What tableport uses of a BullMQ Queue; a queue of either backend has it. */
export type QueueHandle = Pick<
  Queue,
  | 'name'
  | 'add'
  | 'getJob'
  | 'remove'
  | 'getJobCounts'
  | 'upsertJobScheduler'
  | 'getJobSchedulers'
  | 'removeJobScheduler'
  | 'pause'
  | 'resume'
  | 'close'
>;

/** What tableport uses of a BullMQ Worker. */
export type WorkerHandle = Pick<Worker, 'name' | 'close' | 'cancelJob'>;

/** The function a worker runs per job: BullMQ's processor, with its lock token and cancel signal. */
export type Processor = (job: Job, token?: string, signal?: AbortSignal) => Promise<unknown>;

export interface WorkerSettings {
  concurrency: number;
  /** Recorded on each job it takes (BullMQ's processedBy). */
  name: string;
  maxStalledCount?: number;
  lockDuration?: number;
  stalledInterval?: number;
  /** A job that failed for good, BullMQ's `failed` event (a stalled job is failed by BullMQ without the processor). */
  onFailed?: (job: Job | undefined, err: Error) => void;
}

/**
 * One task of a kind per key (a table, or a user for bundles) per interval, shared by every API
 * process: the contract's "refuses a second task for the same table within a minute".
 */
export interface MinuteStore {
  /** Takes the minute for `holder`, or throws TooFrequentError with the seconds left. */
  acquire(kind: string, key: number, holder: string): Promise<void>;
  /** Throws as `acquire` would, without taking it: lets an upload be refused before it is read. */
  check(kind: string, key: number): Promise<void>;
  /** Gives the minute back, only if `holder` still has it (the task could not be queued after all). */
  release(kind: string, key: number, holder: string): Promise<void>;
}

/** The API tells the workers which running job to stop; every worker hears it. */
export interface CancelChannel {
  publish(jobId: string): Promise<void>;
  /** Calls `onCancel` for each cancel heard until the returned function is called. */
  subscribe(onCancel: (jobId: string) => void): () => Promise<void>;
}

export interface QueueBackend {
  readonly kind: 'redis' | 'postgres';
  /** Where it is, as logs and /healthz may show it: no credentials. */
  readonly address: string;
  queue(name: QueueName, defaultJobOptions: JobsOptions): QueueHandle;
  worker(name: QueueName, processor: Processor, settings: WorkerSettings): WorkerHandle;
  readonly minutes: MinuteStore;
  readonly cancels: CancelChannel;
  /** False while the backend is known to be away: the API refuses at once (503) rather than wait. */
  ready(): boolean;
  /** Resolves when the backend answers (health checks). */
  ping(): Promise<void>;
  /** Calls `fn` each time the backend is reached again after an outage (it may have lost its schedules). */
  onReconnect(fn: () => void): () => void;
  /** The queue objects themselves, for the dashboard (bull-board reads BullMQ's classes directly). */
  dashboardQueues(): Queue[];
  close(): Promise<void>;
}

/** Which process the backend serves: the API fails fast, a worker waits patiently for its backend. */
export type BackendRole = 'api' | 'worker';
