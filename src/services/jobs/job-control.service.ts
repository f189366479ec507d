/**
 * What a user may do to a job once it exists: cancel it, or run a failed or cancelled one again.
 * How a job ends is the lifecycle's (`JobLifecycle.cancel`); a retry is a new job its kind plans
 * from the old one, born like any new request (same minute).
 */
import type { JobRecord, JobsRepository } from '../../db/repositories/jobs.repository.js';
import { JobNotCancellableError, JobNotRetriableError, NotFoundError } from '../../errors.js';
import type { JobLifecycle } from '../../jobs/lifecycle/job-lifecycle.js';
import type { Job, JobCreatedResponse } from '../../types/api.js';
import type { JobsService } from './jobs.service.js';

export interface JobControlDeps {
  jobs: JobsRepository;
  jobsView: JobsService;
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
   * `POST /jobs/:id/retry`: a new job with the parameters of a failed or cancelled one. A refusal
   * (the minute, a gone table, a gone upload) leaves the old job as it was.
   */
  async retry(userId: number, jobId: string): Promise<JobCreatedResponse> {
    const old = await this.own(userId, jobId);
    if (old.status !== 'failed' && old.status !== 'cancelled') throw new JobNotRetriableError(jobId, old.status);
    // A destination or source (an object store, a URL) is sealed with its credentials to the job's
    // own id: a copy would not open under the new one, and a retry without it would go elsewhere.
    if (old.location_sealed) throw new JobNotRetriableError(jobId, old.status, 'location');
    const kind = this.d.lifecycle.kindOf(old.type);
    const retry = kind.retry?.bind(kind);
    if (!retry) throw new JobNotRetriableError(jobId, old.status, kind.notRetriable ?? 'bundle');
    return this.d.lifecycle.create(kind, userId, (newId) => retry(old, newId));
  }
}
