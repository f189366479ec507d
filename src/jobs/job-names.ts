/** The closed set of queues and jobs. Payloads carry ids only: BullMQ stores job data in plain text. */
export enum QueueName {
  Export = 'export',
  Import = 'import',
  Email = 'email',
  Maintenance = 'maintenance',
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
}

export interface JobPayloads {
  [JobName.ExportTable]: { jobId: string };
  [JobName.ImportFile]: { jobId: string };
  [JobName.ExportBundle]: { jobId: string };
  [JobName.ImportBundle]: { jobId: string };
  [JobName.SendJobMail]: { jobId: string };
  [JobName.CleanupExports]: Record<string, never>;
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
} as const satisfies Record<JobName, QueueName>;

/** BullMQ job ids: one per tableport job and per mail, so re-adding the same work is a no-op. */
export function bullJobId(name: TaskJobName, jobId: string): string {
  return name === JobName.SendJobMail ? `mail-${jobId}` : jobId;
}
