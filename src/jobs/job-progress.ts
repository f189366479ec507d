import type { JobsRepository } from '../db/repositories/jobs.repository.js';

/**
 * Reports progress to the job record at most every `everyMs`, never awaiting the write on the hot
 * path: a slow database must not slow the stream, and a lost update is replaced by the next one.
 */
export function progressReporter(jobs: JobsRepository, jobId: string, total: number, everyMs = 500): (done: number) => void {
  let last = 0;
  let inFlight = false;
  return (done: number) => {
    const now = Date.now();
    if (inFlight || now - last < everyMs || total <= 0) return;
    last = now;
    inFlight = true;
    jobs
      .setProgress(jobId, (done / total) * 100)
      .catch(() => undefined)
      .finally(() => (inFlight = false));
  };
}

/** `orders_20260121_093000.csv`: the table and the moment the task was asked for, in UTC. */
export function exportFileName(tableName: string, createdAt: Date, fileType: string): string {
  const stamp = createdAt.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  return `${tableName}_${stamp}.${fileType}`;
}
