/**
 * The API under load: job creation spread over many tables (so no table's minute refuses it),
 * the refusal path (one table, `too_frequent`), and one large upload with the API's peak memory.
 */
import { stat } from 'node:fs/promises';
import autocannon, { type Result as CannonResult } from 'autocannon';
import { ApiError, type BenchApi } from './api-client.js';
import type { MailClock } from './mail-clock.js';
import type { LoadFigure, UploadFigure } from './results.js';
import { sleep, type RoleProcess } from './service.js';

export interface LoadContext {
  api: BenchApi;
  token: string;
  apiProc: RoleProcess;
  mail: MailClock;
  jobTimeoutMs: number;
  log: (msg: string) => void;
}

const SMALL_SCHEMA = [{ name: 'title', type: 'string' as const }];

function figure(name: string, r: CannonResult, note?: string): LoadFigure {
  const counts: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) counts[code] = Number(count);
  const requests = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    name,
    requests,
    seconds: Math.round(r.duration * 100) / 100,
    req_per_s: Math.round(requests / r.duration),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    max_ms: r.latency.max,
    status_counts: counts,
    errors: r.errors,
    ...(note ? { note } : {}),
  };
}

/** Tables made a few at a time (each is a CREATE TABLE and an index). */
async function makeTables(api: BenchApi, count: number, prefix: string): Promise<number[]> {
  const ids: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const i = next++;
        ids.push((await api.createTable(`${prefix}_${i}`, SMALL_SCHEMA)).id);
      }
    }),
  );
  return ids;
}

export async function jobCreationLoad(
  ctx: LoadContext,
  tables: number,
  connections: number,
): Promise<{ figure: LoadFigure; drain: { jobs: number; seconds: number; mails: number } }> {
  ctx.log(`making ${tables} tables for the job-creation load…`);
  const ids = await makeTables(ctx.api, tables + 1, 'load');
  const sentinel = ids.pop();
  if (sentinel === undefined) throw new Error('no table was made for the job-creation load');
  let i = 0;
  const mails0 = ctx.mail.count;
  const t0 = performance.now();
  const r = await autocannon({
    url: ctx.api.baseUrl,
    connections,
    amount: ids.length,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ file_type: 'csv', mode: 'all' }),
        setupRequest: (req) => ({ ...req, path: `/oserve/v1/table/${ids[i++ % ids.length]}/export/` }),
      },
    ],
  });
  const fig = figure(`POST …/export/ over ${ids.length} tables (${connections} connections)`, r);
  ctx.log(`job creation: ${fig.req_per_s} req/s, p50 ${fig.p50_ms} ms, p99 ${fig.p99_ms} ms, ${JSON.stringify(fig.status_counts)}`);

  // Let the worker finish those jobs (and send their mails) before the next measurement, and time it.
  const done = await ctx.api.export(sentinel, { file_type: 'csv', mode: 'all' }, ctx.jobTimeoutMs);
  const until = Date.now() + 120_000;
  while (ctx.mail.count - mails0 < ids.length + 1 && Date.now() < until) await sleep(100);
  const drain = { jobs: ids.length + 1, seconds: Math.round((performance.now() - t0) / 10) / 100, mails: ctx.mail.count - mails0 };
  ctx.log(`the worker ran those ${drain.jobs} exports and sent ${drain.mails} mails in ${drain.seconds} s (sentinel job ${done.job.id})`);
  return { figure: fig, drain };
}

/**
 * The refusal path: the first export takes the table's minute, every request after it in the
 * load gets 400 too_frequent. On an empty table, and on one with many rows (`full`), to show
 * whether a refusal costs work that grows with the table.
 */
export async function refusalLoad(
  ctx: LoadContext,
  seconds: number,
  connections: number,
  full?: { tableId: number; rows: number },
): Promise<LoadFigure> {
  const id = full?.tableId ?? (await makeTables(ctx.api, 1, 'refusal'))[0];
  if (id === undefined) throw new Error('no table was made for the refusal load');
  // The first request takes the table's minute (its job runs to the end before the load starts);
  // a table whose minute is still taken refuses it already, which is as good.
  try {
    await ctx.api.export(id, { file_type: 'csv', mode: 'all' }, ctx.jobTimeoutMs);
  } catch (err) {
    if (!(err instanceof ApiError && err.body.includes('too_frequent'))) throw err;
  }
  const r = await autocannon({
    url: `${ctx.api.baseUrl}/oserve/v1/table/${id}/export/`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ file_type: 'csv', mode: 'all' }),
  });
  const what = full ? `a table of ${full.rows.toLocaleString('en')} rows` : 'one empty table';
  const fig = figure(`POST …/export/ on ${what} → 400 too_frequent (${connections} connections)`, r);
  ctx.log(
    `refusal path, ${what}: ${fig.req_per_s} req/s, p50 ${fig.p50_ms} ms, p99 ${fig.p99_ms} ms, ${JSON.stringify(fig.status_counts)}`,
  );
  return fig;
}

/** A large CSV upload: request to 201 (multer to disk, sniff, into storage, queued) and the API's peak RSS. */
export async function uploadLoad(ctx: LoadContext, path: string, rows: number, tableId: number): Promise<UploadFigure> {
  const bytes = (await stat(path)).size;
  const before = await ctx.apiProc.memory.rssMb();
  await ctx.apiProc.memory.reset();
  const t0 = performance.now();
  const created = await ctx.api.upload(tableId, path);
  const seconds = (performance.now() - t0) / 1000;
  const peak = await ctx.apiProc.memory.peakMb();
  ctx.log(
    `upload of ${(bytes / 2 ** 20).toFixed(0)} MB: ${seconds.toFixed(2)} s, API peak ${peak.toFixed(0)} MB (was ${before.toFixed(0)} MB)`,
  );
  // The import it queued runs before the next measurement, so the two do not share the CPUs.
  let importS: number | null = null;
  try {
    const f = await ctx.api.waitFor(created.job_id, t0, performance.now(), ctx.jobTimeoutMs);
    importS = Math.round((f.doneAt - f.sentAt) / 10) / 100;
  } catch (err) {
    ctx.log(`the uploaded file's import did not succeed: ${(err as Error).message}`);
  }
  return {
    mb: Math.round((bytes / 2 ** 20) * 10) / 10,
    rows,
    seconds: Math.round(seconds * 1000) / 1000,
    mb_per_s: Math.round(bytes / 2 ** 20 / seconds),
    api_peak_mb: Math.round(peak * 10) / 10,
    api_rss_before_mb: Math.round(before * 10) / 10,
    import_job_s: importS,
  };
}
