/** The closed set of queues and jobs. Payloads carry ids only: BullMQ stores job data in plain text. */
export enum QueueName {
  Export = 'export',
  Import = 'import',
  Email = 'email',
}

export enum JobName {
  ExportTable = 'export-table',
  ImportFile = 'import-file',
  SendJobMail = 'send-job-mail',
}

export interface JobPayloads {
  [JobName.ExportTable]: { jobId: string };
  [JobName.ImportFile]: { jobId: string };
  [JobName.SendJobMail]: { jobId: string };
}

/** Which queue each job runs on. */
export const JOB_QUEUE = {
  [JobName.ExportTable]: QueueName.Export,
  [JobName.ImportFile]: QueueName.Import,
  [JobName.SendJobMail]: QueueName.Email,
} as const satisfies Record<JobName, QueueName>;

/** BullMQ job ids: one per tableport job and per mail, so re-adding the same work is a no-op. */
export function bullJobId(name: JobName, jobId: string): string {
  return name === JobName.SendJobMail ? `mail-${jobId}` : jobId;
}
