/**
 * Bundle imports: which bundle (an upload, `content`, a `file://` URL or a location), which mode
 * (`reset` by default, as eKuiper), which renames; one job per request, one request per user per
 * minute. The work, all tables in one transaction, is in bundle-import.runner.ts.
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { constants as zlib, gunzipSync } from 'node:zlib';
import { BundleParser } from '../../../bundles/index.js';
import type { BundleImportRequest } from '../../../contracts/bundles.js';
import type { BundleJobsRepository } from '../../../db/repositories/bundle-jobs.repository.js';
import type { NewJob } from '../../../db/repositories/jobs.repository.js';
import { BundleTooFrequentError, InvalidFileError, InvalidParameterError, NotFoundError, TooFrequentError } from '../../../errors.js';
import { importFileKey } from '../../../storage/index.js';
import type { BundleImportStatus, JobCreatedResponse } from '../../../types/api.js';
import type { JobKind, JobPlan, JobResult, JobRunContext } from '../../job-kind.js';
import { QueueName } from '../../job-names.js';
import type { UploadedFile } from '../import/import.kind.js';
import type { KindDeps } from '../kind-deps.js';
import type { BundleImportRunner } from './bundle-import.runner.js';
import type { BundleSourceParams, BundleSources } from './bundle-source.js';

export interface BundleImportParams extends BundleSourceParams {
  mode: BundleImportRequest['mode'];
  rename: Record<string, string>;
}

export class BundleImportKind implements JobKind<'bundle_import'> {
  readonly type = 'bundle_import';
  readonly queue = QueueName.Import;
  readonly folder = 'import';
  readonly minutePer = 'user';
  // Bundle jobs are not retried (ask for the import again): their upload goes whatever the outcome.
  readonly keepsUploadForRetry = false;
  readonly notRetriable = 'bundle';

  constructor(private readonly d: KindDeps & { bundleJobs: BundleJobsRepository; sources: BundleSources; runner: BundleImportRunner }) {}

  run(ctx: JobRunContext): Promise<JobResult> {
    return this.d.runner.run(ctx);
  }

  /** Refuses before a possibly large upload is read, when the user's minute is taken. */
  async precheck(userId: number): Promise<void> {
    await this.d.lifecycle.checkMinute(this, userId).catch(tooFrequent('bundle import'));
  }

  async request(userId: number, file: UploadedFile | undefined, req: BundleImportRequest): Promise<JobCreatedResponse> {
    return this.d.lifecycle.create(this, userId, (jobId) => this.plan(userId, file, req, jobId)).catch(tooFrequent('bundle import'));
  }

  private async plan(userId: number, file: UploadedFile | undefined, req: BundleImportRequest, jobId: string): Promise<JobPlan> {
    const given = [file ? 'file' : null, req.content !== undefined ? 'content' : null, req.file, req.source].filter((x) => x != null);
    if (given.length === 0) {
      throw new InvalidParameterError(
        'file',
        'Send the bundle as the multipart field "file", or a JSON body with "content", "file" (file:///...) or "source".',
      );
    }
    if (given.length > 1)
      throw new InvalidParameterError('file', 'Send one bundle: only one of the upload, "content", "file" and "source".');
    if (req.content !== undefined && req.content.trim() === '') throw new InvalidFileError('The bundle is empty.');
    if (file && file.size === 0) throw new InvalidFileError('The bundle is empty.');

    // What is plainly not a bundle is refused now, not by a job: its first bytes are read.
    if (file) checkHead(await readHead(file.path));
    else if (req.content !== undefined) checkHead(Buffer.from(req.content.slice(0, HEAD_BYTES)));

    await this.precheck(userId);
    let source: BundleSourceParams;
    if (req.file !== undefined) source = await this.d.sources.seal(jobId, 'file', req.file, undefined);
    else if (req.source !== undefined) source = await this.d.sources.seal(jobId, 'source', req.source, req.connection);
    else if (file) source = { origin: 'upload', source_name: file.originalname || null, size: file.size };
    else source = { origin: 'content', source_name: null, size: Buffer.byteLength(req.content ?? '') };
    const params: BundleImportParams = { ...source, mode: req.mode, rename: req.rename };
    const content = req.content;
    const plan: JobPlan = {
      minute: userId,
      row: {
        table_id: null,
        table_name: source.source_name ? `bundle ${source.source_name}` : 'bundle',
        // The job row keeps a bundle's own parameters (jsonb); the repository's type names the table jobs' ones.
        params: params as unknown as NewJob['params'],
        file_type: 'json',
        file_name: source.source_name,
      },
    };
    if (file)
      plan.attach = async (id) => {
        const key = importFileKey(id, 'bundle');
        await this.d.storage.putFile(key, file.path);
        return key;
      };
    else if (content !== undefined)
      plan.attach = async (id) => {
        const key = importFileKey(id, 'bundle');
        await this.d.storage.put(key, Readable.from([Buffer.from(content)]));
        return key;
      };
    return plan;
  }

  /** The caller's latest bundle import, per table `""` or why it failed (eKuiper's `getstatus import`). */
  async status(userId: number): Promise<BundleImportStatus> {
    const job = await this.d.bundleJobs.latestImport(userId);
    if (!job) throw new NotFoundError('You have not imported a bundle yet.');
    return { job_id: job.id, status: job.status, tables: job.bundle_tables ?? {} };
  }
}

/** The minute's refusal in the bundle's words. */
export function tooFrequent(kind: 'bundle export' | 'bundle import') {
  return (err: unknown): never => {
    if (err instanceof TooFrequentError) throw new BundleTooFrequentError(err.retryAfterSeconds, kind);
    throw err;
  };
}

/** How much of an upload is read at request time to refuse what is plainly not a bundle. */
const HEAD_BYTES = 64 * 1024;

async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Runs the bundle reader over the first bytes (gunzipped as far as they go): a file that is not
 * JSON, not a bundle, of another version, or whose first tables break the rules is refused with
 * the reader's own sentence. What lies further is the job's to find.
 */
function checkHead(head: Buffer): void {
  let bytes = head;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    try {
      bytes = gunzipSync(head, { finishFlush: zlib.Z_SYNC_FLUSH, maxOutputLength: 4 * HEAD_BYTES });
    } catch {
      return; // a damaged start: the job says so, with the reader's sentence
    }
  }
  let text = bytes.toString('utf8');
  // The last character may be cut in two; it is not the reader's fault.
  if (text.endsWith('\uFFFD')) text = text.slice(0, -1);
  new BundleParser().write(text);
}
