import { dateOf, systemClock, type Clock } from '../../clock.js';
import type { JobsFilter } from '../../contracts/jobs.js';
import type { JobRecord, JobsRepository, UndoParams } from '../../db/repositories/jobs.repository.js';
import { AppError, NotFoundError, TableDeletedError } from '../../errors.js';
import type { ServiceStorage } from '../../storage/index.js';
import type { ImportPreview, Job, JobType, MinappExportJob, MinappExportStatus, Page, TableSchema } from '../../types/api.js';
import type { Readable } from 'node:stream';
import { pageMeta, type PageQuery } from '../paging.js';
import type { TablesService } from '../tables/tables.service.js';

const secs = (d: Date) => Math.floor(d.getTime() / 1000);

/** The name a job's file is downloaded under: a succeeded export's file, or a failed import's error report. */
function downloadName(job: JobRecord, folder: 'export' | 'import'): string | null {
  if (folder === 'export') return job.status === 'succeeded' ? job.file_name : null;
  return job.file_key ? (job.file_key.split('/').pop() ?? null) : null;
}

const MINAPP_STATUS: Record<JobRecord['status'], MinappExportStatus> = {
  queued: 'pending',
  running: 'ready',
  succeeded: 'finish',
  failed: 'failed',
  // MinApp has no word for it: a cancelled export did not produce its file.
  cancelled: 'failed',
};

/**
 * Signed download links, made and checked by the HTTP edge (src/http/download-links.ts) and handed
 * in by the process's start (main.ts): a finished export's `download_url` and mail button, and the
 * check of a download request.
 */
export interface DownloadLinks {
  create(file: { jobId: string; fileName: string }, now: Date): { url: string; expiresAt: Date };
  verify(
    req: { jobId: string; fileName: string; expires: unknown; signature: unknown },
    now: Date,
  ): { ok: true; expiresAt: number } | { ok: false; code: 'invalid_signature' | 'link_expired' };
}

export class JobsService {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly tables: TablesService,
    private readonly storage: ServiceStorage,
    private readonly links: DownloadLinks,
    /** Where a job type's files live (its kind's folder): an export's file, or an import's error report. */
    private readonly folderOf: (type: JobType) => 'export' | 'import',
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * The signed link of a finished export and when it expires. The expiry counts from the job's
   * end, so every view of the job (API, mail) shows the same link.
   */
  fileLink(job: JobRecord): { url: string; expiresAt: Date } | null {
    // An export to a location wrote its object there; the service holds no file to link to.
    if (job.destination_url) return null;
    const fileName = downloadName(job, this.folderOf(job.type));
    if (!fileName || !job.finished_at) return null;
    return this.links.create({ jobId: job.id, fileName }, job.finished_at);
  }

  toJob(job: JobRecord): Job {
    const out: Job = {
      id: job.id,
      type: job.type,
      table_id: job.table_id,
      status: job.status,
      progress: job.status === 'succeeded' ? 100 : job.progress,
      rows: job.rows,
      file_url: this.folderOf(job.type) === 'export' ? (this.fileLink(job)?.url ?? null) : null,
      file_type: job.file_type,
      file_name: job.file_name,
      errors: job.errors,
      table_name: job.table_name,
      created_at: secs(job.created_at),
      started_at: job.started_at ? secs(job.started_at) : null,
      finished_at: job.finished_at ? secs(job.finished_at) : null,
      mail_status: job.status === 'succeeded' || job.status === 'failed' ? (job.mail_status ?? 'pending') : null,
      ...(job.destination_url ? { destination_url: job.destination_url } : {}),
      ...(job.source_url ? { source_url: job.source_url } : {}),
      ...(job.schedule_id ? { schedule_id: job.schedule_id } : {}),
    };
    const params = job.params as {
      dry_run?: boolean;
      inferred_schema?: TableSchema;
      encoding?: string;
      decimal_separator?: '.' | ',';
      sheet?: string;
      sheet_tables?: Job['sheet_tables'];
    };
    if (params.dry_run) out.dry_run = true;
    if (params.inferred_schema) out.inferred_schema = params.inferred_schema;
    if (params.encoding !== undefined) out.encoding = params.encoding;
    if (params.decimal_separator !== undefined) out.decimal_separator = params.decimal_separator;
    if (params.sheet !== undefined) out.sheet = params.sheet;
    if (params.sheet_tables) out.sheet_tables = params.sheet_tables;
    const r = job.result;
    if (r && job.type === 'import') {
      if (typeof r.inserted === 'number') out.inserted = r.inserted;
      if (typeof r.updated === 'number') out.updated = r.updated;
      if (typeof r.skipped === 'number') out.skipped = r.skipped;
      if (r.preview) out.preview = r.preview as ImportPreview;
      if (typeof r.undone_by === 'string') out.undone_by = r.undone_by;
    }
    if (job.type === 'undo') {
      out.undo_of = (job.params as UndoParams).import_job_id;
      if (typeof r?.deleted === 'number') out.deleted = r.deleted;
      if (typeof r?.restored === 'number') out.restored = r.restored;
    }
    // A bundle export names its tables, so a list can say what it holds in the reader's language.
    if (job.type === 'bundle_export') out.tables = (job.params as unknown as { tables?: string[] }).tables ?? [];
    if (this.folderOf(job.type) === 'import' && job.file_key) out.error_report_url = this.fileLink(job)?.url ?? null;
    return out;
  }

  toMinappExport(job: JobRecord): MinappExportJob {
    return {
      job_id: job.id,
      status: MINAPP_STATUS[job.status],
      operation: 'export',
      file_name: job.file_name,
      file_type: job.file_type ?? 'csv',
      download_url: this.fileLink(job)?.url ?? null,
      created_at: secs(job.created_at),
      updated_at: secs(job.updated_at),
    };
  }

  async get(userId: number, jobId: string): Promise<Job> {
    const job = await this.jobs.get(jobId, userId);
    if (!job) throw new NotFoundError(`Job ${jobId} was not found.`);
    return this.toJob(job);
  }

  /** The caller's jobs, newest first; `filter` narrows them (and stays in the page's next/previous links). */
  async list(userId: number, q: PageQuery, path: string, filter: Partial<JobsFilter> = {}): Promise<Page<Job>> {
    const { total, jobs } = await this.jobs.list(
      { userId, tableId: filter.table_id, types: filter.type, statuses: filter.status },
      q.limit,
      q.offset,
    );
    const kept = new URLSearchParams();
    if (filter.status) kept.set('status', filter.status.join(','));
    if (filter.type) kept.set('type', filter.type.join(','));
    if (filter.table_id !== undefined) kept.set('table_id', String(filter.table_id));
    const meta = pageMeta(path, q, total);
    const more = kept.size ? `&${kept.toString()}` : '';
    if (more) {
      if (meta.next) meta.next += more;
      if (meta.previous) meta.previous += more;
    }
    return { meta, objects: jobs.map((j) => this.toJob(j)) };
  }

  async listTableExports(userId: number, tableId: string, q: PageQuery, path: string): Promise<Page<MinappExportJob>> {
    const table = await this.tables.require(userId, tableId);
    const { total, jobs } = await this.jobs.list({ userId, tableId: table.id, type: 'export' }, q.limit, q.offset);
    return { meta: pageMeta(path, q, total), objects: jobs.map((j) => this.toMinappExport(j)) };
  }

  async getTableExport(userId: number, tableId: string, jobId: string): Promise<MinappExportJob> {
    const table = await this.tables.require(userId, tableId);
    const job = await this.jobs.get(jobId, userId);
    if (job?.type !== 'export' || job.table_id !== table.id) throw new NotFoundError(`Export job ${jobId} was not found.`);
    return this.toMinappExport(job);
  }

  /** Resolves a signed download link to the file, refusing forged and expired links. */
  async openDownload(req: {
    jobId: string;
    fileName: string;
    /** As the link carries them; a missing or repeated one fails the check. */
    expires: string | undefined;
    signature: string | undefined;
  }): Promise<{ job: JobRecord; size: number; stream: Readable }> {
    const verdict = this.links.verify(req, dateOf(this.clock));
    if (!verdict.ok) {
      throw verdict.code === 'link_expired'
        ? new AppError('link_expired', 410, 'This download link has expired; export the table again for a new one.')
        : new AppError('invalid_signature', 403, 'This download link is not valid.');
    }
    const job = await this.jobs.get(req.jobId, null);
    if (!job || downloadName(job, this.folderOf(job.type)) !== req.fileName) throw new NotFoundError('The file was not found.');
    // Deleting a table withdraws its data, exported copies included, even under a link still valid.
    // (A bundle spans tables: it stays, as a backup must.)
    if (job.table_id !== null)
      await this.tables.require(job.user_id, job.table_id).catch((err: unknown) => {
        if (err instanceof NotFoundError)
          throw new TableDeletedError(`The table "${job.table_name}" of this export was deleted; its files are no longer served.`);
        throw err;
      });
    const fileKey = job.file_key;
    const info = fileKey ? await this.storage.stat(fileKey) : null;
    if (!fileKey || !info) throw new AppError('link_expired', 410, 'The file is no longer stored; export the table again.');
    return { job, size: info.size, stream: await this.storage.get(fileKey) };
  }
}
