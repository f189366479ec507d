/**
 * Issue 12: many exports at once. 20 tables of 100,000 rows each (copied inside PostgreSQL from
 * the largest wide table, then vacuumed so neither side pays for hint bits), exported all at once
 * through the service (the worker runs WORKER_CONCURRENCY of them at a time) and watched by one
 * poller of the job list, against psql's 20 `\copy`s of the same SELECT run 2 at a time. Every
 * file is compared byte for byte.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { FieldSchema } from '../../src/types/api.js';
import { dataTable } from '../../src/db/table-sql.js';
import { downloadSha256, sha256Of, type BenchApi } from './api-client.js';
import { copyExportTo, psql } from './psql.js';
import type { ConcurrentFigure } from './results.js';

export interface ConcurrentContext {
  api: BenchApi;
  databaseUrl: string;
  dir: string;
  fields: FieldSchema[];
  jobTimeoutMs: number;
  log: (msg: string) => void;
}

async function inWaves(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, lane));
}

export async function concurrentExports(
  ctx: ConcurrentContext,
  sourceTableId: number,
  tables: number,
  rows: number,
): Promise<ConcurrentFigure> {
  const { api, log } = ctx;
  log(`\n── ${tables} concurrent exports of ${rows.toLocaleString('en')} rows ──`);
  const ids: number[] = [];
  for (let i = 0; i < tables; i++) {
    const t = await api.createTable(`bench_concurrent_${i}`, ctx.fields);
    await psql(
      ctx.databaseUrl,
      `INSERT INTO ${dataTable(t.id)} SELECT * FROM ${dataTable(sourceTableId)} ORDER BY created_at, id LIMIT ${rows}`,
      ctx.jobTimeoutMs,
    );
    await psql(ctx.databaseUrl, `VACUUM ANALYZE ${dataTable(t.id)}`, ctx.jobTimeoutMs);
    ids.push(t.id);
  }
  const psqlFile = (i: number) => join(ctx.dir, `concurrent-${i}-psql.csv`);
  const t0 = performance.now();
  await inWaves(tables, 2, async (i) => {
    await psql(ctx.databaseUrl, copyExportTo(ids[i] as number, ctx.fields, 'csv', {}, psqlFile(i)), ctx.jobTimeoutMs);
  });
  const psqlS = (performance.now() - t0) / 1000;
  log(`psql, ${tables} \\copy 2 at a time: ${psqlS.toFixed(2)} s`);

  const t1 = performance.now();
  // All at once, as 20 users would; one poller watches them all (see BenchApi.waitForMany).
  const started = await Promise.all(ids.map((id) => api.startExport(id, { file_type: 'csv', mode: 'all' })));
  const finished = await api.waitForMany(started, ctx.jobTimeoutMs);
  const serviceS = (Math.max(...finished.map((f) => f.doneAt)) - t1) / 1000;
  log(`tableport, ${tables} exports at once: ${serviceS.toFixed(2)} s`);
  // When each job started and how long it ran (the jobs rows' times), in the order they started.
  const timeline = finished
    .filter((f) => f.startedAt !== undefined)
    .sort((a, b) => (a.startedAt as number) - (b.startedAt as number))
    .map((f) => `${(((f.startedAt as number) - t1) / 1000).toFixed(2)}+${((f.doneAt - (f.startedAt as number)) / 1000).toFixed(2)}`);
  if (timeline.length) log(`jobs started at + ran for (s): ${timeline.join(' ')}`);

  let equal = 0;
  for (const [i, f] of finished.entries()) {
    const url = f.job.file_url;
    if (!url) continue;
    const [svc, ref] = await Promise.all([downloadSha256(url), sha256Of(createReadStream(psqlFile(i)))]);
    if (svc.sha256 === ref.sha256 && f.job.rows === rows) equal++;
  }
  return {
    tables,
    rows_each: rows,
    service_s: Math.round(serviceS * 1000) / 1000,
    psql_s: Math.round(psqlS * 1000) / 1000,
    ratio: Math.round((serviceS / psqlS) * 100) / 100,
    check: `${equal}/${tables} files byte-equal to psql's`,
    check_ok: equal === tables,
  };
}
