import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Job } from '../types/api.js';
import { JobFailedError, JobTimeoutError, TablePortError } from './errors.js';
import { sleep, type Transport } from './transport.js';

/** Options of {@link JobHandle.wait}. */
export interface WaitOptions {
  /** Give up (reject with `JobTimeoutError`) after this many milliseconds; the job itself goes on. Default: no limit. */
  timeoutMs?: number;
  /** Called with the job after every poll that saw a new status or progress. */
  onProgress?: (job: Job) => void;
  /** First pause between polls, in milliseconds (default 250); it grows by half each poll. */
  intervalMs?: number;
  /** Longest pause between polls, in milliseconds (default 3000). */
  maxIntervalMs?: number;
}

/** What {@link JobHandle.download} wrote. */
export interface DownloadResult {
  /** The file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** The job, as it was when the download started. */
  job: Job;
}

/**
 * A handle on an export or import job. Creating one sends nothing; every method asks the server.
 *
 * @example
 * const job = await tp.table(42).export({ fileType: 'csv' });
 * await job.wait({ onProgress: (j) => console.log(j.progress) });
 * await job.download('./orders.csv');
 */
export class JobHandle {
  /** @internal */
  constructor(
    private readonly transport: Transport,
    /** The job's id (`job_id` in the server's replies). */
    readonly id: string,
  ) {}

  /** The job now: status, progress, rows, `file_url` once an export is done, errors. */
  status(): Promise<Job> {
    return this.transport.json<Job>('GET', `/jobs/${encodeURIComponent(this.id)}`);
  }

  /**
   * Cancels the job: a queued one never runs, a running one is stopped and rolled back (no rows
   * written, no file kept). Resolves with the cancelled job; rejects with an `ApiError`
   * `job_not_cancellable` (409) when the job had already ended.
   */
  cancel(): Promise<Job> {
    return this.transport.json<Job>('POST', `/jobs/${encodeURIComponent(this.id)}/cancel`);
  }

  /**
   * Runs a failed or cancelled job again, as a new job with the same parameters (an import reuses
   * the file it kept). Resolves with the new job's handle; rejects with `TooFrequentError` within
   * the table's minute, and `ApiError` `upload_gone` (410) when the import's file is no longer kept.
   */
  async retry(): Promise<JobHandle> {
    const res = await this.transport.json<{ status: 'ok'; job_id: string }>('POST', `/jobs/${encodeURIComponent(this.id)}/retry`);
    return new JobHandle(this.transport, res.job_id);
  }

  /**
   * Undoes a succeeded import, as a new job of type `undo`: the rows it inserted are deleted and
   * the rows it updated put back as they were, all or nothing. Resolves with the undo job's handle
   * (`wait()` on it; its `deleted` and `restored` say what it did). Rejects with an `ApiError`
   * `undo_not_possible` (409) when a row the import wrote changed since (the message names them),
   * when it was undone already or its undo information expired (`UNDO_RETENTION_SECONDS`), or when
   * the job is not a succeeded import.
   *
   * @example
   * const undo = await tp.job(importJobId).undo();
   * const done = await undo.wait();
   * console.log(`${done.deleted} rows removed, ${done.restored} restored`);
   */
  async undo(): Promise<JobHandle> {
    const res = await this.transport.json<{ status: 'ok'; job_id: string }>('POST', `/jobs/${encodeURIComponent(this.id)}/undo`);
    return new JobHandle(this.transport, res.job_id);
  }

  /**
   * Polls the job, with a growing pause, until it ends. Resolves with the job when it succeeded;
   * rejects with `JobFailedError` (its `errors` say why, with file lines for an import) when it
   * failed, and with `JobTimeoutError` when `timeoutMs` passed first.
   */
  async wait(options: WaitOptions = {}): Promise<Job> {
    const { timeoutMs, onProgress } = options;
    const maxInterval = options.maxIntervalMs ?? 3000;
    let interval = Math.min(options.intervalMs ?? 250, maxInterval);
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    let seen = '';
    for (;;) {
      const job = await this.status();
      const key = `${job.status}:${job.progress}`;
      if (key !== seen) {
        seen = key;
        onProgress?.(job);
      }
      if (job.status === 'succeeded') return job;
      if (job.status === 'failed' || job.status === 'cancelled') throw new JobFailedError(job);
      const left = deadline - Date.now();
      if (left <= 0) throw new JobTimeoutError(job, timeoutMs ?? 0);
      await sleep(Math.min(interval, left));
      interval = nextPollInterval(interval, maxInterval);
    }
  }

  /**
   * Downloads a finished export's file through its signed link (no token is sent with it). The
   * file is streamed to `toPath` (a file, or a directory to keep the server's file name) through a
   * temporary name, so a broken download never leaves a partial file under the name asked for.
   * Rejects with `JobFailedError` if the job failed, and a `TablePortError` `job_not_finished` if it
   * has not ended yet (call {@link wait} first).
   */
  async download(toPath: string): Promise<DownloadResult> {
    const job = await this.status();
    if (job.type !== 'export' && job.type !== 'bundle_export') {
      throw new TablePortError('not_an_export', `Job ${job.id} is an import; only exports have a file.`);
    }
    if (job.status === 'failed') throw new JobFailedError(job);
    if (job.status !== 'succeeded' || !job.file_url) {
      throw new TablePortError('job_not_finished', `Job ${job.id} is ${job.status}; wait for it to succeed before downloading.`);
    }
    const dir = await stat(toPath).then(
      (s) => s.isDirectory(),
      () => false,
    );
    const target = dir ? join(toPath, job.file_name ?? `${job.id}.${job.file_type ?? 'dat'}`) : toPath;
    const res = await this.transport.raw('GET', job.file_url, { auth: false, noTimeout: true, headers: { accept: '*/*' } });
    if (!res.body) throw new TablePortError('empty_download', `The download of job ${job.id} had no body.`);
    const temp = `${target}.${randomBytes(6).toString('hex')}.part`;
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as never), count, createWriteStream(temp));
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return { path: target, bytes, job };
  }

  /** The job id, so a handle prints as its id. */
  toString(): string {
    return this.id;
  }
}

/** The pause after `interval` while a job is awaited: half as long again, up to `maxInterval`. */
export function nextPollInterval(interval: number, maxInterval: number): number {
  return Math.min(maxInterval, Math.ceil(interval * 1.5));
}
