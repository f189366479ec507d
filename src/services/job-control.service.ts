/**
 * What a user may do to a job once it exists: cancel it, or run a failed or cancelled one again.
 * How a job ends is the lifecycle's (`JobLifecycle.cancel`); this checks ownership and state, and
 * a retry is a new job with the old one's parameters, queued like any new request (same minute).
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import type { ExportParams, ImportParams, JobRecord, JobsRepository } from '../db/repositories/jobs.repository.js';
import type { RowsRepository } from '../db/repositories/rows.repository.js';
import { JobNotCancellableError, JobNotRetriableError, NotFoundError, TooManyRowsError, UploadGoneError } from '../errors.js';
import { exportExtension } from '../formats/index.js';
import { JobName } from '../jobs/job-names.js';
import type { JobQueues } from '../jobs/queues.js';
import { importFileKey, type StorageDriver } from '../storage/index.js';
import type { Job, JobCreatedResponse } from '../types/api.js';
import type { JobLifecycle } from './job-lifecycle.service.js';
import { exportFileName } from './job-progress.js';
import type { JobsService } from './jobs.service.js';
import type { TablesService } from './tables.service.js';
import type { MinuteStore } from '../queue/index.js';

export interface JobControlDeps {
  config: Config;
  jobs: JobsRepository;
  jobsView: JobsService;
  rows: RowsRepository;
  tables: TablesService;
  limiter: MinuteStore;
  queues: JobQueues;
  storage: StorageDriver;
  lifecycle: JobLifecycle;
}

export class JobControlService {
  constructor(private readonly d: JobControlDeps) {}

  private async own(userId: number, jobId: string): Promise<JobRecord> {
    const job = await this.d.jobs.get(jobId, userId);
    if (!job) throw new NotFoundError(`Job ${jobId} was not found.`);
    return job;
  }

  /** `POST /jobs/:id/cancel`: the cancelled job, or 409 when it had already ended. */
  async cancel(userId: number, jobId: string): Promise<Job> {
    const job = await this.own(userId, jobId);
    const cancelled = await this.d.lifecycle.cancel(job);
    if (!cancelled) {
      const now = await this.own(userId, jobId);
      throw new JobNotCancellableError(jobId, now.status);
    }
    return this.d.jobsView.toJob(cancelled);
  }

  /**
   * `POST /jobs/:id/retry`: a new job with the parameters of a failed or cancelled one. An import
   * needs the upload its job kept: it moves to the new job (so a second retry of the same old job
   * answers `upload_gone`); a refusal (the minute, a gone table) leaves the old job as it was.
   */
  async retry(userId: number, jobId: string): Promise<JobCreatedResponse> {
    const old = await this.own(userId, jobId);
    if (old.status !== 'failed' && old.status !== 'cancelled') throw new JobNotRetriableError(jobId, old.status);
    // A destination or source (an object store, a URL) is sealed with its credentials to the job's
    // own id: a copy would not open under the new one, and a retry without it would go elsewhere.
    if ('location_sealed' in old && old.location_sealed) throw new JobNotRetriableError(jobId, old.status, 'location');
    if (old.table_id === null) throw new JobNotRetriableError(jobId, old.status, 'bundle');
    const table = await this.d.tables.require(userId, old.table_id);
    const isImport = old.type === 'import';
    const params = { ...old.params };
    if (isImport && (!old.upload_key || !(await this.d.storage.stat(old.upload_key)))) throw new UploadGoneError(jobId);
    // As for a new request: a dry run writes nothing and does not use the table's minute.
    const limited = !(isImport && (params as ImportParams).dry_run);
    if (limited) await this.d.limiter.check(old.type, table.id);
    if (!isImport) {
      const p = params as ExportParams;
      const selected = await this.d.rows.countUpTo(table.id, p, this.d.config.exportMaxRows, table.schema.fields);
      if (selected > this.d.config.exportMaxRows) throw new TooManyRowsError(this.d.config.exportMaxRows);
      p.expected_rows = selected;
    }

    const newId = randomUUID();
    if (limited) await this.d.limiter.acquire(old.type, table.id, newId);
    const uploadKey = isImport && old.upload_key ? importFileKey(newId, old.upload_key.split('/').pop() ?? 'upload') : null;
    try {
      if (uploadKey && old.upload_key) await this.d.storage.put(uploadKey, await this.d.storage.get(old.upload_key));
      const fileName = isImport
        ? old.file_name
        : exportFileName(
            table.name,
            new Date(),
            exportExtension((params as ExportParams).file_type, (params as ExportParams).compression === 'gzip'),
          );
      await this.d.jobs.insert({
        id: newId,
        type: old.type,
        user_id: userId,
        table_id: table.id,
        table_name: table.name,
        params,
        file_type: old.file_type ?? (params as ExportParams).file_type,
        file_name: fileName,
        upload_key: uploadKey,
      });
      await this.d.queues.add(isImport ? JobName.ImportFile : JobName.ExportTable, { jobId: newId });
    } catch (err) {
      if (limited) await this.d.limiter.release(old.type, table.id, newId).catch(() => undefined);
      await this.d.jobs.delete(newId).catch(() => undefined);
      if (uploadKey) await this.d.storage.delete(uploadKey).catch(() => undefined);
      throw err;
    }
    // The upload now belongs to the new job; the old one no longer keeps a copy.
    if (isImport && old.upload_key) {
      await this.d.lifecycle.forgetUpload(old.id).catch(() => undefined);
    }
    return { status: 'ok', job_id: newId };
  }
}
