/**
 * Bundle imports, the request side: which bundle (an upload, `content`, a `file://` URL or a
 * location), which mode (`reset` by default, as eKuiper), which renames; one job per request, one
 * request per user per minute. The work itself is in bundle-import.runner.ts.
 */
import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { constants as zlib, gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { BundleScanner, IMPORT_MODES, type ImportMode } from '../bundles/index.js';
import type { BundleJobsRepository } from '../db/repositories/bundle-jobs.repository.js';
import type { NewJob } from '../db/repositories/jobs.repository.js';
import { InvalidFileError, InvalidParameterError, NotFoundError } from '../errors.js';
import { JobName } from '../jobs/job-names.js';
import { importFileKey } from '../storage/index.js';
import type { BundleImportStatus, JobCreatedResponse } from '../types/api.js';
import { tooFrequent, type BundleServiceDeps } from './bundle-export.service.js';
import type { BundleSourceParams, BundleSources } from './bundle-source.js';
import type { UploadedFile } from './imports.service.js';
import { isTableName } from './tables.service.js';
import { parseParams } from './validate.js';

export interface BundleImportParams extends BundleSourceParams {
  mode: ImportMode;
  rename: Record<string, string>;
}

const MODE = z.enum(IMPORT_MODES, { error: 'must be "reset", "replace" or "merge"' });

const ImportSchema = z.object({
  mode: MODE.optional(),
  content: z.string().optional(),
  file: z.string().min(1).max(4096).optional(),
  source: z.string().min(1).max(4096).optional(),
  connection: z.unknown().optional(),
  rename: z.union([z.record(z.string(), z.string()), z.string().max(70_000)]).optional(),
});

export interface BundleImportDeps extends BundleServiceDeps {
  bundleJobs: BundleJobsRepository;
  sources: BundleSources;
}

export class BundleImportService {
  constructor(private readonly d: BundleImportDeps) {}

  /** Refuses before a possibly large upload is read, when the user's minute is taken. */
  async precheck(userId: number): Promise<void> {
    await this.d.limiter.check('bundle_import', userId).catch(tooFrequent('bundle import'));
  }

  async request(userId: number, file: UploadedFile | undefined, body: unknown, query: unknown): Promise<JobCreatedResponse> {
    try {
      const b = parseParams(ImportSchema, body ?? {});
      const q = parseParams(z.object({ mode: MODE.optional(), rename: z.string().max(70_000).optional() }), query ?? {}, 'query');
      const mode = q.mode ?? b.mode ?? 'reset';
      const rename = parseRename(b.rename ?? q.rename);
      const given = [file ? 'file' : null, b.content !== undefined ? 'content' : null, b.file, b.source].filter((x) => x != null);
      if (given.length === 0) {
        throw new InvalidParameterError(
          'file',
          'Send the bundle as the multipart field "file", or a JSON body with "content", "file" (file:///...) or "source".',
        );
      }
      if (given.length > 1)
        throw new InvalidParameterError('file', 'Send one bundle: only one of the upload, "content", "file" and "source".');
      if (b.content !== undefined && b.content.trim() === '') throw new InvalidFileError('The bundle is empty.');
      if (file && file.size === 0) throw new InvalidFileError('The bundle is empty.');

      // What is plainly not a bundle is refused now, not by a job: its first bytes are read.
      if (file) checkHead(await readHead(file.path));
      else if (b.content !== undefined) checkHead(Buffer.from(b.content.slice(0, HEAD_BYTES)));

      await this.precheck(userId);
      const jobId = randomUUID();
      let source: BundleSourceParams;
      let uploadKey: string | null = null;
      if (b.file !== undefined) source = await this.d.sources.seal(jobId, 'file', b.file, undefined);
      else if (b.source !== undefined) source = await this.d.sources.seal(jobId, 'source', b.source, b.connection);
      else if (file) source = { origin: 'upload', source_name: file.originalname || null, size: file.size };
      else source = { origin: 'content', source_name: null, size: Buffer.byteLength(b.content ?? '') };

      await this.d.limiter.acquire('bundle_import', userId, jobId).catch(tooFrequent('bundle import'));
      try {
        if (file) {
          uploadKey = importFileKey(jobId, 'bundle');
          await this.d.storage.putFile(uploadKey, file.path);
        } else if (b.content !== undefined) {
          uploadKey = importFileKey(jobId, 'bundle');
          await this.d.storage.put(uploadKey, Readable.from([Buffer.from(b.content)]));
        }
        const params: BundleImportParams = { ...source, mode, rename };
        await this.d.jobs.insert({
          id: jobId,
          type: 'bundle_import',
          user_id: userId,
          table_id: null,
          table_name: source.source_name ? `bundle ${source.source_name}` : 'bundle',
          // The job row keeps a bundle's own parameters (jsonb); the repository's type names the table jobs' ones.
          params: params as unknown as NewJob['params'],
          file_type: 'json',
          file_name: source.source_name,
          upload_key: uploadKey,
        });
        await this.d.queues.add(JobName.ImportBundle, { jobId });
      } catch (err) {
        await this.d.limiter.release('bundle_import', userId, jobId).catch(() => undefined);
        await this.d.jobs.delete(jobId).catch(() => undefined);
        if (uploadKey) await this.d.storage.delete(uploadKey).catch(() => undefined);
        throw err;
      }
      return { status: 'ok', job_id: jobId };
    } finally {
      if (file) await rm(file.path, { force: true });
    }
  }

  /** The caller's latest bundle import, per table `""` or why it failed (eKuiper's `getstatus import`). */
  async status(userId: number): Promise<BundleImportStatus> {
    const job = await this.d.bundleJobs.latestImport(userId);
    if (!job) throw new NotFoundError('You have not imported a bundle yet.');
    return { job_id: job.id, status: job.status, tables: job.bundle_tables ?? {} };
  }
}

/**
 * `{"old": "new"}`, or as a form field its JSON text or `old=new,old2=new2` (the CLI's `--rename`).
 * Both names must be table names; two tables may not be renamed to one name.
 */
export function parseRename(raw: Record<string, string> | string | undefined): Record<string, string> {
  if (raw === undefined || raw === '') return {};
  let map: Record<string, unknown>;
  if (typeof raw === 'string') {
    const text = raw.trim();
    if (text.startsWith('{')) {
      try {
        map = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new InvalidParameterError('rename', '"rename" is not valid JSON; send {"old": "new"} or old=new,old2=new2.');
      }
    } else {
      map = {};
      for (const pair of text.split(',')) {
        const [from, to, extra] = pair.split('=').map((s) => s.trim());
        if (!from || !to || extra !== undefined) throw new InvalidParameterError('rename', `"${pair}" is not old=new.`);
        map[from] = to;
      }
    }
  } else map = raw;
  const out: Record<string, string> = {};
  const targets = new Set<string>();
  for (const [from, to] of Object.entries(map)) {
    if (!isTableName(from)) throw new InvalidParameterError('rename', `"${from.slice(0, 64)}" is not a table name.`);
    if (typeof to !== 'string' || !isTableName(to)) {
      throw new InvalidParameterError(
        `rename.${from}`,
        `"${String(to).slice(0, 64)}" is not a table name: a letter, then up to 63 letters, digits or "_".`,
      );
    }
    if (targets.has(to)) throw new InvalidParameterError(`rename.${from}`, `Two tables are renamed to "${to}".`);
    targets.add(to);
    out[from] = to;
  }
  return out;
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
  new BundleScanner().write(text);
}
