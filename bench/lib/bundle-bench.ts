/**
 * Bundles (issue 11): N tables of M rows exported as one bundle and imported into an empty
 * workspace, each timed from the HTTP request to the job's success, with the worker's peak RSS,
 * against psql `\copy` of the same tables (the sum over the tables: row_to_json out, CSV in).
 * Checked: every imported table holds the bytes of its source (psql's CSV export of each).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Table } from '../../src/types/api.js';
import { sha256Of, type BenchApi, type Finished } from './api-client.js';
import { FIELDS, writeDataset } from './dataset.js';
import { cpuSeconds } from './proc-stat.js';
import { copyExportTo, copyFromCsv, psql } from './psql.js';
import type { RoleProcess } from './service.js';

export interface BundleBenchContext {
  /** The user whose tables are exported. */
  api: BenchApi;
  /** Another user, whose empty workspace the bundle is imported into. */
  target: BenchApi;
  worker: RoleProcess;
  databaseUrl: string;
  dir: string;
  seed: number;
  jobTimeoutMs: number;
  log: (msg: string) => void;
}

export interface BundleStep {
  service_s: number;
  rows_per_s: number;
  worker_peak_mb: number;
  worker_cpu_s: number;
  psql_s: number;
  ratio: number;
}

export interface BundleFigure {
  tables: number;
  rows_per_table: number;
  bundle_mb: number;
  export: BundleStep;
  import: BundleStep & { upload_s: number };
  check: string;
  check_ok: boolean;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function runBundleBench(ctx: BundleBenchContext, tables: number, rows: number): Promise<BundleFigure> {
  const { log } = ctx;
  log(`\n── bundle: ${tables} tables × ${rows.toLocaleString('en')} rows ──`);
  const csvPath = join(ctx.dir, `bundle-rows-${rows}.csv`);
  await writeDataset(csvPath, 'csv', rows, ctx.seed + 7);
  const sources: Table[] = [];
  let psqlIn = 0;
  for (let k = 1; k <= tables; k++) {
    const t = await ctx.api.createTable(`bundle_${k}`, FIELDS);
    sources.push(t);
    psqlIn += await psql(ctx.databaseUrl, copyFromCsv(t.id, FIELDS, csvPath), ctx.jobTimeoutMs);
  }
  log(`psql \\copy FROM csv, ${tables} tables: ${psqlIn.toFixed(2)} s`);
  let psqlOut = 0;
  for (const t of sources)
    psqlOut += await psql(
      ctx.databaseUrl,
      copyExportTo(t.id, FIELDS, 'json', {}, join(ctx.dir, `bundle-psql-${t.id}.ndjson`)),
      ctx.jobTimeoutMs,
    );
  log(`psql \\copy (row_to_json) TO, ${tables} tables: ${psqlOut.toFixed(2)} s`);

  const exp = await measured(ctx, () => ctx.api.exportBundle({ tables: sources.map((t) => t.name) }, ctx.jobTimeoutMs));
  const bundlePath = join(ctx.dir, 'bundle.json');
  const res = await fetch(exp.finished.job.file_url ?? '');
  if (!res.ok || !res.body) throw new Error(`bundle download: HTTP ${res.status}`);
  await pipeline(Readable.fromWeb(res.body as never), createWriteStream(bundlePath));
  const bundleMb = (await stat(bundlePath)).size / 2 ** 20;
  log(
    `bundle export: ${exp.seconds.toFixed(2)} s, ${exp.finished.job.rows} rows, ${bundleMb.toFixed(1)} MB, worker peak ${exp.peakMb.toFixed(0)} MB`,
  );

  const imp = await measured(ctx, () => ctx.target.importBundle(bundlePath, ctx.jobTimeoutMs));
  log(`bundle import: ${imp.seconds.toFixed(2)} s, ${imp.finished.job.rows} rows, worker peak ${imp.peakMb.toFixed(0)} MB`);

  // The imported tables, by name, against their sources: psql's CSV export of each, byte for byte.
  const imported = await ctx.target.listTables();
  let same = 0;
  for (const t of sources) {
    const copy = imported.find((i) => i.name === t.name);
    if (!copy) continue;
    const a = join(ctx.dir, `bundle-check-${t.id}.csv`);
    const b = join(ctx.dir, `bundle-check-${copy.id}.csv`);
    await psql(ctx.databaseUrl, copyExportTo(t.id, FIELDS, 'csv', {}, a), ctx.jobTimeoutMs);
    await psql(ctx.databaseUrl, copyExportTo(copy.id, FIELDS, 'csv', {}, b), ctx.jobTimeoutMs);
    if ((await sha256Of(createReadStream(a))).sha256 === (await sha256Of(createReadStream(b))).sha256) same++;
  }
  const total = tables * rows;
  const step = (m: Measured, psqlS: number): BundleStep => ({
    service_s: round(m.seconds, 3),
    rows_per_s: Math.round(total / m.seconds),
    worker_peak_mb: round(m.peakMb, 1),
    worker_cpu_s: round(m.cpuS, 2),
    psql_s: round(psqlS, 3),
    ratio: round(m.seconds / psqlS, 2),
  });
  return {
    tables,
    rows_per_table: rows,
    bundle_mb: round(bundleMb, 1),
    export: step(exp, psqlOut),
    import: { ...step(imp, psqlIn), upload_s: round((imp.finished.acceptedAt - imp.finished.sentAt) / 1000, 3) },
    check: `${same}/${tables} imported tables = their source (psql CSV export, sha256); rows ${exp.finished.job.rows}/${total} out, ${imp.finished.job.rows}/${total} in`,
    check_ok: same === tables && exp.finished.job.rows === total && imp.finished.job.rows === total,
  };
}

interface Measured {
  finished: Finished;
  seconds: number;
  peakMb: number;
  cpuS: number;
}

async function measured(ctx: BundleBenchContext, run: () => Promise<Finished>): Promise<Measured> {
  await ctx.worker.memory.reset();
  const cpu0 = await cpuSeconds(ctx.worker.pid);
  const finished = await run();
  const [peakMb, cpu1] = await Promise.all([ctx.worker.memory.peakMb(), cpuSeconds(ctx.worker.pid)]);
  return { finished, seconds: (finished.doneAt - finished.sentAt) / 1000, peakMb, cpuS: cpu1 - cpu0 };
}
