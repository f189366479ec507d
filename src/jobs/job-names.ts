import type { JobType } from '../types/api.js';

/** The closed set of queues and jobs. Payloads carry ids only: BullMQ stores job data in plain text. */
export enum QueueName {
  Export = 'export',
  Import = 'import',
  Email = 'email',
  Maintenance = 'maintenance',
  Webhook = 'webhook',
}

export enum JobName {
  ExportTable = 'export-table',
  ImportFile = 'import-file',
  /** Bundles: several tables out as one file, or in as one all-or-nothing transaction. */
  ExportBundle = 'export-bundle',
  ImportBundle = 'import-bundle',
  SendJobMail = 'send-job-mail',
  /** Repeating: removes export files whose download links have expired. */
  CleanupExports = 'cleanup-exports',
  /** Repeating: reconciles job rows with the queue and removes orphaned uploads (the job sweep). */
  SweepJobs = 'sweep-jobs',
  /** One event of a job to one webhook; retried with backoff on its own, like the mail. */
  DeliverWebhook = 'deliver-webhook',
}

export interface JobPayloads {
  [JobName.ExportTable]: { jobId: string };
  [JobName.ImportFile]: { jobId: string };
  [JobName.ExportBundle]: { jobId: string };
  [JobName.ImportBundle]: { jobId: string };
  [JobName.SendJobMail]: { jobId: string };
  [JobName.CleanupExports]: Record<string, never>;
  [JobName.SweepJobs]: Record<string, never>;
  [JobName.DeliverWebhook]: { jobId: string; webhookId: string };
}

/** The jobs that belong to one tableport job (export, import, its mail), added by `JobQueues.add`. */
export type TaskJobName = JobName.ExportTable | JobName.ImportFile | JobName.ExportBundle | JobName.ImportBundle | JobName.SendJobMail;

/** Which queue each job runs on. */
export const JOB_QUEUE = {
  [JobName.ExportTable]: QueueName.Export,
  [JobName.ImportFile]: QueueName.Import,
  [JobName.ExportBundle]: QueueName.Export,
  [JobName.ImportBundle]: QueueName.Import,
  [JobName.SendJobMail]: QueueName.Email,
  [JobName.CleanupExports]: QueueName.Maintenance,
  [JobName.SweepJobs]: QueueName.Maintenance,
  [JobName.DeliverWebhook]: QueueName.Webhook,
} as const satisfies Record<JobName, QueueName>;

/** BullMQ job ids: one per tableport job and per mail, so re-adding the same work is a no-op. */
export function bullJobId(name: TaskJobName, jobId: string): string {
  return name === JobName.SendJobMail ? `mail-${jobId}` : jobId;
}

/** The queue job that runs each type of tableport job (the sweep re-adds a lost one by it). */
export const TASK_JOB_OF_TYPE = {
  export: JobName.ExportTable,
  import: JobName.ImportFile,
  bundle_export: JobName.ExportBundle,
  bundle_import: JobName.ImportBundle,
} as const satisfies Record<JobType, TaskJobName>;
