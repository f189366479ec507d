/**
 * The closed set of queues, and the service's own jobs beside the work of tableport jobs (whose
 * queue each kind declares, and whose BullMQ job name is the kind's type). Payloads carry ids
 * only: BullMQ stores job data in plain text.
 */
import type { JobType } from '../types/api.js';

export enum QueueName {
  Export = 'export',
  Import = 'import',
  Email = 'email',
  Maintenance = 'maintenance',
  Webhook = 'webhook',
}

/** The queues the work of tableport jobs runs on; a kind picks one. */
export type WorkQueue = QueueName.Export | QueueName.Import;

export enum JobName {
  SendJobMail = 'send-job-mail',
  /** Repeating: removes export files whose download links have expired. */
  CleanupExports = 'cleanup-exports',
  /** Repeating: reconciles job rows with the queue and removes orphaned uploads (the job sweep). */
  SweepJobs = 'sweep-jobs',
  /** One event of a job to one webhook; retried with backoff on its own, like the mail. */
  DeliverWebhook = 'deliver-webhook',
  /** A user's schedule fired (its BullMQ job scheduler, or a catch-up at start-up): births one run. */
  RunSchedule = 'run-schedule',
}

export interface JobPayloads {
  [JobName.SendJobMail]: { jobId: string };
  [JobName.CleanupExports]: Record<string, never>;
  [JobName.SweepJobs]: Record<string, never>;
  [JobName.DeliverWebhook]: { jobId: string; webhookId: string };
  /** `due`: the slot a catch-up stands for (a scheduler's own firings carry it as BullMQ's prevMillis). */
  [JobName.RunSchedule]: { scheduleId: string; due?: number };
}

/** Which queue each of the service's own jobs runs on. */
export const JOB_QUEUE = {
  [JobName.SendJobMail]: QueueName.Email,
  [JobName.CleanupExports]: QueueName.Maintenance,
  [JobName.SweepJobs]: QueueName.Maintenance,
  [JobName.DeliverWebhook]: QueueName.Webhook,
  [JobName.RunSchedule]: QueueName.Maintenance,
} as const satisfies Record<JobName, QueueName>;

/** One queue entry that belongs to a tableport job: its work, or its mail. The id makes a second add a no-op. */
export interface QueueEntry {
  queue: QueueName;
  name: string;
  id: string;
}

/** The work of job `jobId` of a kind, on the kind's queue, under the kind's type. */
export function workEntry(kind: { type: JobType; queue: WorkQueue }, jobId: string): QueueEntry {
  return { queue: kind.queue, name: kind.type, id: jobId };
}

/** The outcome mail of job `jobId`. */
export function mailEntry(jobId: string): QueueEntry {
  return { queue: QueueName.Email, name: JobName.SendJobMail, id: `mail-${jobId}` };
}
