/**
 * The periodic reconciliation of job rows with the queue. PostgreSQL is the record of what was
 * promised; Redis may lose jobs (a restart without persistence, a crash between the row's insert
 * and the queue add) and BullMQ may give up on a job whose failure could not be written (the
 * database was down through every attempt). Every action here is idempotent and guarded by the
 * job's claim, so any number of workers may sweep at once.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dateOf, type Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { ImportUndoRepository } from '../../db/repositories/import-undo.repository.js';
import type { JobsRepository } from '../../db/repositories/jobs.repository.js';
import { mailEntry, workEntry } from '../job-names.js';
import type { JobQueues } from '../queues.js';
import type { Logger } from '../../logger.js';
import type { JobLifecycle } from './job-lifecycle.js';

export interface SweepReport {
  /** Unfinished jobs whose queue entry was gone, queued again. */
  requeued: number;
  /** Jobs BullMQ had failed without the failure being recorded, now recorded (and mailed). */
  failed: number;
  /** Finished jobs whose mail job was gone, queued again. */
  mailed: number;
  /** Orphaned uploads removed from `.incoming`. */
  uploadsRemoved: number;
  /** Imports whose undo information was dropped, UNDO_RETENTION_SECONDS after they ran. */
  undoPruned: number;
}

const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export class JobSweep {
  constructor(
    private readonly d: {
      config: Config;
      jobs: JobsRepository;
      queues: JobQueues;
      lifecycle: JobLifecycle;
      logger: Logger;
      clock: Clock;
      undo?: ImportUndoRepository;
    },
  ) {}

  async sweep(now = dateOf(this.d.clock)): Promise<SweepReport> {
    const report: SweepReport = { requeued: 0, failed: 0, mailed: 0, uploadsRemoved: 0, undoPruned: 0 };
    // Rows younger than the grace period may be a request between its insert and its queue add.
    const before = new Date(now.getTime() - this.d.config.jobSweepGraceSeconds * 1000);

    for (const job of await this.d.jobs.unfinishedSince(before, 500)) {
      const entry = workEntry(this.d.lifecycle.kindOf(job.type), job.id);
      const { state, failedReason } = await this.d.queues.inspect(entry);
      if (LIVE_STATES.has(state)) continue;
      // A worker cut off from Redis may still be running it; it will end the job itself.
      if (await this.d.lifecycle.isClaimed(job.id)) continue;
      if (state === 'failed') {
        const msg = /stalled/i.test(failedReason)
          ? 'The task stopped without finishing too many times (its worker was lost).'
          : `The task failed: ${failedReason || 'no reason was recorded'}`;
        const r = await this.d.lifecycle.fail(job.id, [{ error_code: 'internal_error', error_msg: msg }], 1);
        if (r === 'failed') report.failed++;
        continue;
      }
      // Gone, or completed without ending the row: put it back in line.
      await this.d.queues.readd(entry, job.id);
      await this.d.jobs.touch(job.id);
      report.requeued++;
      this.d.logger.warn({ jobId: job.id, type: job.type, was: state }, 'job was lost by the queue; queued again');
    }

    for (const job of await this.d.jobs.mailOwedSince(before, 500)) {
      const { state } = await this.d.queues.inspect(mailEntry(job.id));
      if (state !== 'missing') continue;
      await this.d.queues.add(mailEntry(job.id), job.id);
      report.mailed++;
    }

    report.uploadsRemoved = await this.removeStaleUploads(now);
    if (this.d.undo) report.undoPruned = await this.d.undo.prune(new Date(now.getTime() - this.d.config.undoRetentionSeconds * 1000));
    if (report.requeued || report.failed || report.mailed || report.uploadsRemoved || report.undoPruned)
      this.d.logger.info(report, 'job sweep');
    return report;
  }

  /**
   * Uploads half-received when the API died stay in `.incoming` (the request that owned them is
   * gone). A file still being received is written to all the time, so age since the last write is safe.
   */
  private async removeStaleUploads(now: Date): Promise<number> {
    const dir = join(this.d.config.storageDir, '.incoming');
    const cutoff = now.getTime() - this.d.config.incomingMaxAgeSeconds * 1000;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const path = join(dir, name);
      const s = await stat(path).catch(() => null);
      if (!s || s.mtimeMs >= cutoff) continue;
      await rm(path, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}
