/**
 * `npm run bench -- --formats` (issue 22): every format's export and import of the same N rows
 * through the service, each timed from the request to the job's success, with its ratio to the
 * CSV export or import of the same run, the worker's peak RSS, and the anchors a user would reach
 * for: `psql \copy` (CSV and row_to_json), `pg_dump --column-inserts`, and DuckDB's CSV → Parquet
 * of the service's own CSV export. Each import reads the service's own export of that format into
 * an empty table of the same schema, and must give back the same rows (psql's CSV of both tables
 * compared byte for byte).
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dataTable } from '../../src/db/table-sql.js';
import type { FieldSchema, Table } from '../../src/types/api.js';
import { ApiError, sha256Of, type BenchApi, type Finished } from './api-client.js';
import { cpuSecondsOf, ServerCpu } from './cpu-time.js';
import { fieldsOf, writeDataset, type Shape } from './dataset.js';
import { copyExportTo, copyFromCsv, psql } from './psql.js';
import type { RoleProcess } from './service.js';

export const FORMAT_EXPORTS = ['csv', 'json', 'ndjson', 'sql', 'parquet', 'xlsx'] as const;
export const FORMAT_IMPORTS = ['csv', 'json', 'ndjson', 'parquet', 'xlsx'] as const;
type ExportType = (typeof FORMAT_EXPORTS)[number];
type ImportType = (typeof FORMAT_IMPORTS)[number];

export interface FormatsContext {
  api: BenchApi;
  worker: RoleProcess;
  databaseUrl: string;
  dir: string;
  seed: number;
  jobTimeoutMs: number;
  shape: Shape;
  exports: readonly ExportType[];
  imports: readonly ImportType[];
  log: (msg: string) => void;
}

export interface FormatJob {
  format: string;
  direction: 'export' | 'import';
  seconds: number;
  /** This job's time over the CSV job's (same direction, same run). */
  vs_csv: number | null;
  worker_peak_mb: number;
  /** The peak RSS of the worker's child processes during the job (DuckDB's, for Parquet exports); 0 if none. */
  children_peak_mb: number;
  /** CPU seconds of the worker (and its children) and of the database's PostgreSQL backends during the job; null where /proc cannot be read. */
  cpu: { worker: number; postgres: number } | null;
  mb: number;
  check_ok: boolean;
  check: string;
}

export interface FormatAnchor {
  what: string;
  seconds: number;
  /** pg_dump: CPU seconds of its process and of its PostgreSQL backend; null where not measured. */
  cpu?: { client: number; postgres: number } | null;
}

export interface FormatTarget {
  what: string;
  ratio: number;
  target: number;
  met: boolean;
}

/** A ratio of CPU seconds, printed beside the targets (which are times). */
export interface FormatCpuRatio {
  what: string;
  ratio: number;
}

export interface FormatsResult {
  rows: number;
  shape: Shape;
  jobs: FormatJob[];
  anchors: FormatAnchor[];
  targets: FormatTarget[];
  cpu_ratios: FormatCpuRatio[];
}

const EXTENSION: Record<ExportType, string> = { csv: 'csv', json: 'json', ndjson: 'ndjson', sql: 'sql', parquet: 'parquet', xlsx: 'xlsx' };
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => bytes / 2 ** 20;

/** Issue 22's targets: a job's time over another's in the same run. */
const EXPORT_TARGETS: Partial<Record<ExportType, number>> = { json: 1.5, ndjson: 1.5, parquet: 1.5, xlsx: 3 };
const IMPORT_TARGETS: Partial<Record<ImportType, number>> = { json: 1.5, ndjson: 1.5, parquet: 1.5, xlsx: 3 };
const SQL_TARGET = 1.3;
const PARQUET_VS_DUCKDB_TARGET = 1.3;
export const WORKER_RSS_TARGET_MB = 200;

async function download(url: string, path: string): Promise<number> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new ApiError(res.status, await res.text(), `download ${url}`);
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(path));
  return (await stat(path)).size;
}

/** The summed RSS of a process's children now (Linux /proc), in MB. */
async function childrenRssMb(pid: number): Promise<number> {
  let total = 0;
  try {
    for (const task of await readdir(`/proc/${pid}/task`)) {
      const kids = (await readFile(`/proc/${pid}/task/${task}/children`, 'utf8')).trim();
      for (const kid of kids ? kids.split(' ') : []) {
        const status = await readFile(`/proc/${kid}/status`, 'utf8').catch(() => '');
        const m = /VmRSS:\s+(\d+) kB/.exec(status);
        if (m) total += Number(m[1]) / 1024;
      }
    }
  } catch {
    // the process has gone
  }
  return total;
}

/** A command's wall seconds, and its CPU seconds as bash's `times` reports its reaped children. */
async function timed(cmd: string, args: string[], timeoutMs: number): Promise<{ seconds: number; cpu: number | null }> {
  const t0 = performance.now();
  const times = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', ['-c', '"$0" "$@" && times', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited ${code}: ${err.trim()}`));
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  // `times`: the shell's user and system time, then its children's, as `0m1.234s 0m0.056s`.
  const children = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/m.exec(times.trim().split('\n')[1] ?? '');
  const cpu = children ? Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4]) : null;
  return { seconds, cpu };
}

/** DuckDB's CSV → Parquet of a file (zstd, as DuckDB writes by default), in this process; seconds. */
async function duckdbCsvToParquet(csv: string, parquet: string): Promise<number> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
  try {
    const t0 = performance.now();
    await con.run(`COPY (SELECT * FROM read_csv(${lit(csv)}, header = true)) TO ${lit(parquet)} (FORMAT parquet)`);
    return (performance.now() - t0) / 1000;
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

export async function runFormats(ctx: FormatsContext, rows: number): Promise<FormatsResult> {
  const { api, log, shape } = ctx;
  const timeout = ctx.jobTimeoutMs;
  const fields: FieldSchema[] = fieldsOf(shape);
  const file = (name: string) => join(ctx.dir, `formats-${shape}-${rows}-${name}`);
  log(`\n── formats: ${rows.toLocaleString('en')} ${shape} rows ──`);
  const csvPath = file('source.csv');
  await writeDataset(csvPath, 'csv', rows, ctx.seed, shape);
  const source = await api.createTable(`fmt_${shape}_${rows}_source`, fields);
  await psql(ctx.databaseUrl, copyFromCsv(source.id, fields, csvPath), timeout);
  await psql(ctx.databaseUrl, `VACUUM ANALYZE ${dataTable(source.id)}`, timeout);

  const server = new ServerCpu(ctx.databaseUrl);
  await server.open();
  try {
    return await measureFormats(ctx, rows, fields, file, source, server);
  } finally {
    await server.close();
  }
}

/**
 * The SQL export's check, as the other formats' round trip: psql runs the file (in one transaction,
 * not timed) into an empty table of the same schema, reached by the exported table's name through
 * a view in a schema of its own, and that table must then give psql's CSV of the source, byte for byte.
 */
async function sqlRestoresSource(
  ctx: FormatsContext,
  exported: Table,
  fields: FieldSchema[],
  sqlFile: string,
  file: (name: string) => string,
  sourceSha: string,
  rows: number,
): Promise<boolean> {
  const target = await ctx.api.createTable(`fmt_${ctx.shape}_${rows}_sql_restore`, fields);
  const schema = `bench_sql_restore_${target.id}`;
  const view = `"${schema}"."${exported.name.replaceAll('"', '""')}"`;
  await psql(ctx.databaseUrl, `CREATE SCHEMA "${schema}"; CREATE VIEW ${view} AS SELECT * FROM ${dataTable(target.id)}`, ctx.jobTimeoutMs);
  try {
    await psql(ctx.databaseUrl, '', ctx.jobTimeoutMs * 4, { file: sqlFile, searchPath: `"${schema}"` });
    await psql(ctx.databaseUrl, copyExportTo(target.id, fields, 'csv', {}, file('check-sql.csv')), ctx.jobTimeoutMs);
    return (await sha256Of(createReadStream(file('check-sql.csv')))).sha256 === sourceSha;
  } finally {
    await psql(ctx.databaseUrl, `DROP SCHEMA "${schema}" CASCADE`, ctx.jobTimeoutMs);
  }
}

async function measureFormats(
  ctx: FormatsContext,
  rows: number,
  fields: FieldSchema[],
  file: (name: string) => string,
  source: Table,
  server: ServerCpu,
): Promise<FormatsResult> {
  const { api, log, shape } = ctx;
  const timeout = ctx.jobTimeoutMs;
  const measure = async (
    run: () => Promise<Finished>,
  ): Promise<{ f: Finished; s: number; peak: number; children: number; cpu: FormatJob['cpu'] }> => {
    await ctx.worker.memory.reset();
    const worker0 = await cpuSecondsOf(ctx.worker.pid, true);
    await server.start();
    let children = 0;
    const sampler = setInterval(() => {
      void childrenRssMb(ctx.worker.pid).then((mb) => {
        children = Math.max(children, mb);
      });
    }, 50);
    try {
      const f = await run();
      const peak = await ctx.worker.memory.peakMb();
      const postgres = await server.stop();
      const worker1 = await cpuSecondsOf(ctx.worker.pid, true);
      const cpu =
        worker0 === null || worker1 === null || postgres === null ? null : { worker: round(worker1 - worker0), postgres: round(postgres) };
      return { f, s: (f.doneAt - f.sentAt) / 1000, peak, children, cpu };
    } finally {
      clearInterval(sampler);
    }
  };

  const anchors: FormatAnchor[] = [];
  const anchor = (what: string, seconds: number, cpu?: FormatAnchor['cpu']) => {
    anchors.push({ what, seconds: round(seconds, 3), ...(cpu === undefined ? {} : { cpu }) });
    log(`${what}: ${seconds.toFixed(2)} s${cpu ? `, CPU ${cpu.client.toFixed(2)} s + PostgreSQL ${cpu.postgres.toFixed(2)} s` : ''}`);
  };
  anchor('psql \\copy (select) TO csv', await psql(ctx.databaseUrl, copyExportTo(source.id, fields, 'csv', {}, file('psql.csv')), timeout));
  anchor(
    'psql \\copy (row_to_json) TO',
    await psql(ctx.databaseUrl, copyExportTo(source.id, fields, 'json', {}, file('psql.ndjson')), timeout),
  );
  await server.start();
  const dumped = await timed(
    'pg_dump',
    ['--data-only', '--column-inserts', '-t', dataTable(source.id), '-f', file('pg_dump.sql'), '-d', ctx.databaseUrl],
    timeout,
  );
  const dumpServer = await server.stop();
  anchor(
    'pg_dump --column-inserts',
    dumped.seconds,
    dumped.cpu === null || dumpServer === null ? null : { client: round(dumped.cpu), postgres: round(dumpServer) },
  );

  const jobs: FormatJob[] = [];
  const files = new Map<ExportType, string>();
  const sourceSha = (await sha256Of(createReadStream(file('psql.csv')))).sha256;
  for (const type of ctx.exports) {
    // Each export takes its table's minute: each format exports its own copy, made inside PostgreSQL
    // and vacuumed (not timed), as psql's anchors read the source.
    const copy = await api.createTable(`fmt_${shape}_${rows}_export_${type}`, fields);
    await psql(ctx.databaseUrl, `INSERT INTO ${dataTable(copy.id)} SELECT * FROM ${dataTable(source.id)}`, timeout);
    await psql(ctx.databaseUrl, `VACUUM ANALYZE ${dataTable(copy.id)}`, timeout);
    const { f, s, peak, children, cpu } = await measure(() => api.export(copy.id, { file_type: type, mode: 'all' }, timeout));
    const path = file(`export.${EXTENSION[type]}`);
    const bytes = f.job.file_url ? await download(f.job.file_url, path) : 0;
    files.set(type, path);
    let ok = f.job.rows === rows && bytes > 0;
    let check = `rows ${f.job.rows}/${rows}`;
    if (type === 'sql' && ok) {
      const same = await sqlRestoresSource(ctx, copy, fields, path, file, sourceSha, rows);
      ok = same;
      check += `; psql restores it ${same ? '=' : '≠'} source`;
    }
    jobs.push({
      format: type,
      direction: 'export',
      seconds: round(s, 3),
      vs_csv: null,
      worker_peak_mb: round(peak, 1),
      children_peak_mb: round(children, 1),
      cpu,
      mb: round(mb(bytes), 1),
      check_ok: ok,
      check,
    });
    log(
      `export ${type}: ${s.toFixed(2)} s, ${mb(bytes).toFixed(1)} MB, worker peak ${peak.toFixed(0)} MB, children ${children.toFixed(0)} MB${cpu ? `, CPU ${cpu.worker.toFixed(2)} s + PostgreSQL ${cpu.postgres.toFixed(2)} s` : ''}`,
    );
  }
  const csvExport = files.get('csv');
  if (csvExport) anchor('DuckDB CSV → Parquet (of the CSV export)', await duckdbCsvToParquet(csvExport, file('duckdb.parquet')));

  for (const type of ctx.imports) {
    const path = files.get(type);
    if (!path) continue;
    const table: Table = await api.createTable(`fmt_${shape}_${rows}_${type}`, fields);
    const { f, s, peak, children, cpu } = await measure(() => api.import(table.id, path, timeout));
    await psql(ctx.databaseUrl, copyExportTo(table.id, fields, 'csv', {}, file(`check-${type}.csv`)), timeout);
    const same = (await sha256Of(createReadStream(file(`check-${type}.csv`)))).sha256 === sourceSha;
    jobs.push({
      format: type,
      direction: 'import',
      seconds: round(s, 3),
      vs_csv: null,
      worker_peak_mb: round(peak, 1),
      children_peak_mb: round(children, 1),
      cpu,
      mb: round(mb((await stat(path)).size), 1),
      check_ok: f.job.rows === rows && same,
      check: `rows ${f.job.rows}/${rows}; table ${same ? '=' : '≠'} source`,
    });
    log(`import ${type}: ${s.toFixed(2)} s, worker peak ${peak.toFixed(0)} MB, table ${same ? '=' : '≠'} source`);
  }

  for (const direction of ['export', 'import'] as const) {
    const csv = jobs.find((j) => j.direction === direction && j.format === 'csv');
    if (!csv) continue;
    for (const j of jobs) if (j.direction === direction) j.vs_csv = round(j.seconds / csv.seconds, 2);
  }
  const targets: FormatTarget[] = [];
  const cpuRatios: FormatCpuRatio[] = [];
  const target = (what: string, ratio: number, limit: number) =>
    targets.push({ what, ratio: round(ratio, 2), target: limit, met: ratio <= limit });
  for (const j of jobs) {
    const limit = j.direction === 'export' ? EXPORT_TARGETS[j.format as ExportType] : IMPORT_TARGETS[j.format as ImportType];
    if (limit !== undefined && j.vs_csv !== null) target(`${j.format} ${j.direction} / CSV ${j.direction}`, j.vs_csv, limit);
    target(`${j.format} ${j.direction}: worker peak RSS ${j.worker_peak_mb} MB`, j.worker_peak_mb / WORKER_RSS_TARGET_MB, 1);
  }
  const sql = jobs.find((j) => j.direction === 'export' && j.format === 'sql');
  const dump = anchors.find((a) => a.what.startsWith('pg_dump'));
  if (sql && dump) {
    target('sql export / pg_dump --column-inserts', sql.seconds / dump.seconds, SQL_TARGET);
    // Not the issue's target (a time): the same ratio in CPU seconds, which the host's load hardly moves.
    if (sql.cpu && dump.cpu)
      cpuRatios.push({
        what: 'sql export / pg_dump --column-inserts, CPU seconds (worker + PostgreSQL / pg_dump + PostgreSQL)',
        ratio: round((sql.cpu.worker + sql.cpu.postgres) / (dump.cpu.client + dump.cpu.postgres)),
      });
  }
  const parquet = jobs.find((j) => j.direction === 'export' && j.format === 'parquet');
  const csvJob = jobs.find((j) => j.direction === 'export' && j.format === 'csv');
  const duck = anchors.find((a) => a.what.startsWith('DuckDB'));
  if (parquet && csvJob && duck)
    target(
      'parquet export / (CSV export + DuckDB CSV → Parquet)',
      parquet.seconds / (csvJob.seconds + duck.seconds),
      PARQUET_VS_DUCKDB_TARGET,
    );
  return { rows, shape, jobs, anchors, targets, cpu_ratios: cpuRatios };
}

export function renderFormats(results: FormatsResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`\n## ${r.rows.toLocaleString('en')} ${r.shape} rows`, '');
    out.push(
      '| job | time | vs CSV | CPU: worker + PostgreSQL | worker peak | its children | file | check |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const j of r.jobs)
      out.push(
        `| ${j.format} ${j.direction} | ${j.seconds.toFixed(2)} s | ${j.vs_csv === null ? '' : `${j.vs_csv.toFixed(2)}×`} | ${j.cpu ? `${j.cpu.worker.toFixed(2)} + ${j.cpu.postgres.toFixed(2)} s` : ''} | ${j.worker_peak_mb.toFixed(0)} MB | ${j.children_peak_mb ? `${j.children_peak_mb.toFixed(0)} MB` : ''} | ${j.mb.toFixed(1)} MB | ${j.check_ok ? 'ok' : 'FAILED'}: ${j.check} |`,
      );
    out.push('', '| anchor | time | CPU: its process + PostgreSQL |', '| --- | ---: | ---: |');
    for (const a of r.anchors)
      out.push(`| ${a.what} | ${a.seconds.toFixed(2)} s | ${a.cpu ? `${a.cpu.client.toFixed(2)} + ${a.cpu.postgres.toFixed(2)} s` : ''} |`);
    out.push('', '| target | ratio | limit | met |', '| --- | ---: | ---: | --- |');
    for (const t of r.targets) out.push(`| ${t.what} | ${t.ratio.toFixed(2)} | ${t.target} | ${t.met ? 'yes' : 'NO'} |`);
    for (const c of r.cpu_ratios) out.push(`| ${c.what} (not a target) | ${c.ratio.toFixed(2)} | | |`);
  }
  return out.join('\n');
}
