/**
 * The few API calls the benchmark makes, as a client would make them: fetch for JSON, and
 * node:http for uploads, so a 200 MB file streams from disk with backpressure instead of being
 * read ahead into memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FieldSchema, Job, JobCreatedResponse, Table } from '../../src/types/api.js';
import { sleep } from './service.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

export interface Finished {
  job: Job;
  /** performance.now() when the request was sent. */
  sentAt: number;
  /** performance.now() when the upload's or export's 201 came back. */
  acceptedAt: number;
  /**
   * performance.now() when the job succeeded: the service's own record of it (the jobs row's
   * `finished_at`, written with the status) when the API was given a {@link JobTimesSource}, else
   * when a poll first saw the job succeed, up to one poll interval (100 ms) later.
   */
  doneAt: number;
  /** Date.now() at `doneAt`, to compare with the mail's arrival. */
  doneWallMs: number;
  /** performance.now() when the worker took the job (its row's `started_at`), when recorded times are used. */
  startedAt?: number;
  /** Date.now() when the last poll that found the job not done was sent: the job ended after this. */
  pendingWallMs: number;
}

/**
 * When a job started and succeeded (epoch ms), as the service recorded them; null when it cannot
 * tell. The API's `finished_at` is whole seconds (the contract's), so the benchmark reads the row.
 */
export type JobTimesSource = (jobId: string) => Promise<{ startedMs: number | null; finishedMs: number | null }>;

export class BenchApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly jobTimes?: JobTimesSource,
  ) {}

  private warnedPollTime = false;

  /**
   * The moment a job that a poll has just seen succeeded did succeed. A recorded time outside the
   * span from the request (`sentAt`) to now (another clock: a remote database) is not used, and the
   * poll's time stands.
   */
  private async succeededAt(jobId: string, sentAt: number): Promise<{ doneAt: number; doneWallMs: number; startedAt?: number }> {
    const perf = performance.now();
    const wall = Date.now();
    const row = this.jobTimes ? await this.jobTimes(jobId) : null;
    const recorded = row?.finishedMs ?? null;
    const sentWall = wall - (perf - sentAt);
    if (recorded === null || recorded < sentWall - 1 || recorded > wall + 1) {
      if (this.jobTimes && !this.warnedPollTime) {
        this.warnedPollTime = true;
        console.error(`job ${jobId}: no usable finished_at (${recorded}): timing jobs by the poll that saw them done`);
      }
      return { doneAt: perf, doneWallMs: wall };
    }
    const started = row?.startedMs ?? null;
    return {
      doneAt: perf - (wall - recorded),
      doneWallMs: recorded,
      ...(started !== null && started >= sentWall - 1 && started <= recorded ? { startedAt: perf - (wall - started) } : {}),
    };
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, text, `${method} ${path}`);
    return JSON.parse(text) as T;
  }

  createTable(name: string, fields: FieldSchema[]): Promise<Table> {
    return this.json<Table>('POST', '/oserve/v1/table/', { name, schema: { fields } });
  }

  async listTables(): Promise<Table[]> {
    return (await this.json<{ objects: Table[] }>('GET', '/oserve/v1/table/?limit=1000')).objects;
  }

  getJob(id: string): Promise<Job> {
    return this.json<Job>('GET', `/oserve/v1/jobs/${id}`);
  }

  async export(tableId: number, body: Record<string, unknown>, timeoutMs: number): Promise<Finished> {
    const sentAt = performance.now();
    const created = await this.json<JobCreatedResponse>('POST', `/oserve/v1/table/${tableId}/export/`, body);
    return this.waitFor(created.job_id, sentAt, performance.now(), timeoutMs);
  }

  async import(tableId: number, path: string, timeoutMs: number): Promise<Finished> {
    const sentAt = performance.now();
    const created = await this.upload(tableId, path);
    return this.waitFor(created.job_id, sentAt, performance.now(), timeoutMs);
  }

  /** POST …/import/ with the file as the multipart field `file`, streamed from disk. */
  upload(tableId: number, path: string): Promise<JobCreatedResponse> {
    return this.uploadTo(`/oserve/v1/table/${tableId}/import/`, path);
  }

  /** Bundles: a bundle import of the file (`mode` as a query parameter). */
  async importBundle(path: string, timeoutMs: number, mode = 'reset'): Promise<Finished> {
    const sentAt = performance.now();
    const created = await this.uploadTo(`/oserve/v1/data/import/?mode=${mode}`, path);
    return this.waitFor(created.job_id, sentAt, performance.now(), timeoutMs);
  }

  async exportBundle(body: Record<string, unknown>, timeoutMs: number): Promise<Finished> {
    const sentAt = performance.now();
    const created = await this.json<JobCreatedResponse>('POST', '/oserve/v1/data/export/', body);
    return this.waitFor(created.job_id, sentAt, performance.now(), timeoutMs);
  }

  private async uploadTo(apiPath: string, path: string): Promise<JobCreatedResponse> {
    const boundary = `----tableport-bench-${Date.now().toString(16)}`;
    const name = basename(path);
    const type = name.endsWith('.json') ? 'application/json' : 'text/csv';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const size = (await stat(path)).size;
    const url = new URL(apiPath, this.baseUrl);
    return new Promise<JobCreatedResponse>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.token}`,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': head.length + size + tail.length,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 201) reject(new ApiError(res.statusCode ?? 0, text, `upload of ${name}`));
            else resolve(JSON.parse(text) as JobCreatedResponse);
          });
        },
      );
      req.on('error', reject);
      async function* body() {
        yield head;
        yield* createReadStream(path, { highWaterMark: 256 * 1024 });
        yield tail;
      }
      // The server may answer (and stop reading) early with an error: the response handler reports that.
      pipeline(Readable.from(body()), req).catch(() => undefined);
    });
  }

  /** POST …/export/ without waiting: the job's id and when the request was sent. */
  async startExport(tableId: number, body: Record<string, unknown>): Promise<{ jobId: string; sentAt: number; acceptedAt: number }> {
    const sentAt = performance.now();
    const created = await this.json<JobCreatedResponse>('POST', `/oserve/v1/table/${tableId}/export/`, body);
    return { jobId: created.job_id, sentAt, acceptedAt: performance.now() };
  }

  /**
   * Waits for many jobs with one poller: `GET /jobs/` (newest first) every 100 ms, as an operator's
   * dashboard would, instead of one poll per job, whose requests (200 a second for 20 jobs) would
   * take CPU from the jobs being measured on a small host. Each job's `doneAt` is the first poll
   * that saw it succeed.
   */
  async waitForMany(started: Array<{ jobId: string; sentAt: number; acceptedAt: number }>, timeoutMs: number): Promise<Finished[]> {
    const until = performance.now() + timeoutMs;
    const done = new Map<string, Finished>();
    const pendingWall = new Map(started.map((s) => [s.jobId, Date.now()]));
    const limit = Math.min(100, Math.max(started.length, 1));
    for (;;) {
      const askedAt = Date.now();
      const page = await this.json<{ objects: Job[] }>('GET', `/oserve/v1/jobs/?limit=${limit}`);
      const byId = new Map(page.objects.map((j) => [j.id, j]));
      for (const s of started) {
        if (done.has(s.jobId)) continue;
        // Older than the newest page (more jobs than one page holds): ask for it alone.
        const job = byId.get(s.jobId) ?? (await this.getJob(s.jobId));
        if (job.status === 'succeeded') {
          const pendingWallMs = pendingWall.get(s.jobId) ?? askedAt;
          done.set(s.jobId, {
            job,
            sentAt: s.sentAt,
            acceptedAt: s.acceptedAt,
            ...(await this.succeededAt(s.jobId, s.sentAt)),
            pendingWallMs,
          });
        } else if (job.status === 'failed')
          throw new Error(`job ${s.jobId} (${job.type}) failed: ${JSON.stringify(job.errors).slice(0, 800)}`);
        else pendingWall.set(s.jobId, askedAt);
      }
      if (done.size === started.length) return started.map((s) => done.get(s.jobId) as Finished);
      if (performance.now() > until)
        throw new Error(`${started.length - done.size} of ${started.length} jobs not done within ${timeoutMs / 1000} s`);
      await sleep(100);
    }
  }

  /** Polls the job every 100 ms until it succeeds (see `Finished.doneAt`); a failure or the timeout throws. */
  async waitFor(jobId: string, sentAt: number, acceptedAt: number, timeoutMs: number): Promise<Finished> {
    const until = performance.now() + timeoutMs;
    let pendingWallMs = Date.now();
    for (;;) {
      const askedAt = Date.now();
      const job = await this.getJob(jobId);
      if (job.status === 'succeeded') return { job, sentAt, acceptedAt, ...(await this.succeededAt(jobId, sentAt)), pendingWallMs };
      if (job.status === 'failed') throw new Error(`job ${jobId} (${job.type}) failed: ${JSON.stringify(job.errors).slice(0, 800)}`);
      if (performance.now() > until)
        throw new Error(`job ${jobId} (${job.type}) not done within ${timeoutMs / 1000} s (status ${job.status}, ${job.progress}%)`);
      // The server read "not done" after this request left: the job ended later than askedAt.
      pendingWallMs = askedAt;
      await sleep(100);
    }
  }
}

/** Downloads a signed file link (no token) and returns the SHA-256 of its bytes, streaming. */
export async function downloadSha256(
  url: string,
  transform?: (lines: AsyncIterable<Buffer>) => AsyncIterable<string | Buffer>,
): Promise<{ sha256: string; bytes: number }> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new ApiError(res.status, await res.text(), `download ${url}`);
  return sha256Of(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), transform);
}

export async function sha256Of(
  source: AsyncIterable<Buffer>,
  transform?: (chunks: AsyncIterable<Buffer>) => AsyncIterable<string | Buffer>,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of transform ? transform(source) : source) {
    bytes += chunk.length;
    hash.update(chunk);
  }
  return { sha256: hash.digest('hex'), bytes };
}
