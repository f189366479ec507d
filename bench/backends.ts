/**
 * `npm run bench:backends` (also the last part of `npm run bench`): the same jobs with their queue
 * in Redis (REDIS_URL set) and in PostgreSQL (REDIS_URL unset), in one run, and the first start of
 * `npm start` on a fresh data folder with nothing configured (embedded PostgreSQL, its initdb
 * included) to its first finished export. Prints figures and the PostgreSQL/Redis ratios.
 *
 * Each backend gets a database of its own (and a Redis prefix), `tableport api` and `tableport
 * worker` as child processes and an in-process SMTP server; the two run side by side and take turns
 * (the best of `--rounds` counts), and everything is removed at the end.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import pg from 'pg';
import { startSmtpServer } from '../test/helpers/smtp.js';
import { BenchApi } from './lib/api-client.js';
import { FIELDS, writeDataset } from './lib/dataset.js';
import { Sandbox } from './lib/sandbox.js';
import { addUser, freePort, sleep, spawnRole, waitForHttp, waitForLog } from './lib/service.js';

const positive = (v: string) => {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

const program = new Command('bench:backends')
  .description('CSV import and export, many small jobs, on the Redis and the PostgreSQL queue; first start to first export')
  .option('--rows <n>', 'rows of the CSV import and export', positive, 1_000_000)
  .option('--small-jobs <n>', 'small exports (of empty tables, one table each) requested at once', positive, 300)
  .option('--rounds <n>', 'rounds of the CSV import and export on each backend (the best counts)', positive, 2)
  .option('--no-first-start', 'skip the first start on a fresh data folder')
  .option('--seed <n>', 'seed of the generated rows', positive, 42)
  .parse();
const opts = program.opts<{ rows: number; smallJobs: number; rounds: number; firstStart: boolean; seed: number }>();

const log = (msg: string) => console.error(`[bench:backends] ${msg}`);
const withUser = (url: string) => {
  const u = new URL(url);
  if (!u.username) u.username = process.env.PGUSER ?? process.env.USER ?? 'postgres';
  return u.toString();
};
const pgAdminUrl = withUser(process.env.BENCH_PG_ADMIN_URL ?? process.env.TEST_PG_ADMIN_URL ?? 'postgres://127.0.0.1:5432/postgres');
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

type Backend = 'redis' | 'postgres';
interface BackendFigures {
  importSeconds: number;
  exportSeconds: number;
  smallJobsPerSecond: number;
}

interface Service {
  backend: Backend;
  api: BenchApi;
  baseUrl: string;
  token: string;
  databaseUrl: string;
  sandbox: Sandbox;
}

/** `tableport api` and `tableport worker` with their queue in `backend`, in a sandbox of their own. */
async function startService(backend: Backend): Promise<Service> {
  const sandbox = new Sandbox({ pgAdminUrl, redisUrl, keepDir: false, log });
  await sandbox.create();
  const smtp = await startSmtpServer();
  sandbox.defer('smtp server', () => smtp.close());
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...sandbox.serviceEnv(redisUrl, smtp.url, baseUrl),
    PORT: String(port),
    // The export follows the import on one table: the per-table minute is a second here.
    TASK_INTERVAL_SECONDS: '1',
    LOG_LEVEL: 'warn',
  };
  if (backend === 'postgres') delete env.REDIS_URL;
  const track = sandbox.track.bind(sandbox);
  const token = await addUser(env, `bench-${sandbox.id}@example.com`, track);
  const apiProc = await spawnRole('api', { env, logDir: sandbox.dir, track, ready: () => waitForHttp(`${baseUrl}/healthz`) });
  sandbox.defer('api', () => apiProc.stop());
  const worker = await spawnRole('worker', {
    env: { ...env, LOG_LEVEL: 'info' },
    logDir: sandbox.dir,
    track,
    nodeArgs: ['--max-old-space-size=192'],
    ready: (p) => waitForLog(p, 'workers started'),
  });
  sandbox.defer('worker', () => worker.stop());
  return {
    backend,
    api: new BenchApi(baseUrl, token, sandbox.jobTimesSource()),
    baseUrl,
    token,
    databaseUrl: sandbox.databaseUrl,
    sandbox,
  };
}

const TIMEOUT_MS = 20 * 60_000;

/** One CSV import of the file into a new table, then its CSV export: seconds of each, request to success. */
async function transferRound(svc: Service, csvPath: string, round: number): Promise<{ importSeconds: number; exportSeconds: number }> {
  const table = await svc.api.createTable(`round_${round}`, FIELDS);
  const imported = await svc.api.import(table.id, csvPath, TIMEOUT_MS);
  const importSeconds = (imported.doneAt - imported.sentAt) / 1000;
  await sleep(1100);
  const exported = await svc.api.export(table.id, { file_type: 'csv', mode: 'all' }, TIMEOUT_MS);
  const exportSeconds = (exported.doneAt - exported.sentAt) / 1000;
  log(`${svc.backend}, round ${round}: import ${importSeconds.toFixed(2)} s, export ${exportSeconds.toFixed(2)} s`);
  return { importSeconds, exportSeconds };
}

/** Many small jobs: the export of an empty table, one table each, every one requested at once. */
async function smallJobs(svc: Service): Promise<number> {
  const tables: number[] = [];
  for (let i = 0; i < opts.smallJobs; i++) tables.push((await svc.api.createTable(`small_${i}`, FIELDS.slice(0, 2))).id);
  const db = new pg.Pool({ connectionString: svc.databaseUrl, max: 2 });
  svc.sandbox.defer('counting pool', () => db.end());
  const t0 = performance.now();
  const headers = { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' };
  for (let i = 0; i < tables.length; i += 20) {
    await Promise.all(
      tables.slice(i, i + 20).map(async (id) => {
        const res = await fetch(`${svc.baseUrl}/oserve/v1/table/${id}/export/`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ file_type: 'csv', mode: 'all' }),
        });
        if (res.status !== 201) throw new Error(`small export of table ${id}: ${res.status} ${await res.text()}`);
      }),
    );
  }
  for (;;) {
    const { rows } = await db.query<{ done: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS done, count(*) FILTER (WHERE status = 'failed')::int AS failed
         FROM tableport.jobs WHERE type = 'export' AND table_id = ANY($1)`,
      [tables],
    );
    const { done, failed } = rows[0] ?? { done: 0, failed: 0 };
    if (failed > 0) throw new Error(`${failed} small exports failed`);
    if (done === tables.length) break;
    if (performance.now() - t0 > TIMEOUT_MS) throw new Error(`small exports: ${done} of ${tables.length} done in time`);
    await sleep(50);
  }
  const perSecond = tables.length / ((performance.now() - t0) / 1000);
  log(`${svc.backend}: ${tables.length} small exports, ${perSecond.toFixed(1)} jobs/s`);
  return perSecond;
}

/**
 * Both services run side by side and take turns, round after round, so a change in the machine's
 * load falls on both; each figure is the best of its rounds.
 */
async function compareBackends(csvPath: string): Promise<Record<Backend, BackendFigures>> {
  const services: Service[] = [];
  try {
    for (const b of ['redis', 'postgres'] as const) services.push(await startService(b));
    const best = new Map<Backend, BackendFigures>();
    for (let round = 1; round <= opts.rounds; round++)
      for (const svc of round % 2 ? services : [...services].reverse()) {
        const r = await transferRound(svc, csvPath, round);
        const was = best.get(svc.backend);
        best.set(svc.backend, {
          importSeconds: Math.min(was?.importSeconds ?? Number.POSITIVE_INFINITY, r.importSeconds),
          exportSeconds: Math.min(was?.exportSeconds ?? Number.POSITIVE_INFINITY, r.exportSeconds),
          smallJobsPerSecond: 0,
        });
      }
    for (const svc of services) {
      const figures = best.get(svc.backend);
      if (figures) figures.smallJobsPerSecond = await smallJobs(svc);
    }
    const get = (b: Backend) => {
      const f = best.get(b);
      if (!f) throw new Error(`no figures for ${b}`);
      return f;
    };
    return { redis: get('redis'), postgres: get('postgres') };
  } finally {
    for (const svc of services) await svc.sandbox.cleanup();
  }
}

/** `npm start` with nothing configured, on an empty data folder: to the first finished export. */
async function firstStart(): Promise<{ readySeconds: number; firstExportSeconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'tableport-bench-first-'));
  // As root the embedded PostgreSQL runs as the user postgres, which must enter the folder.
  await chmod(dir, 0o755);
  const children = new Set<import('node:child_process').ChildProcess>();
  const track = (c: import('node:child_process').ChildProcess) => children.add(c);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'info' };
  for (const v of ['DATABASE_URL', 'REDIS_URL', 'SMTP_URL', 'STORAGE_DIR', 'MAIL_OUTBOX_DIR']) delete env[v];
  const t0 = performance.now();
  const all = await spawnRole('all', {
    env,
    logDir: dir,
    track,
    timeoutMs: 180_000,
    ready: () => waitForHttp(`${baseUrl}/healthz`, 180_000),
  });
  try {
    const readySeconds = (performance.now() - t0) / 1000;
    const token = await addUser(env, 'first@example.com', track);
    const api = new BenchApi(baseUrl, token);
    const table = await api.createTable('first', FIELDS.slice(0, 2));
    const done = await api.export(table.id, { file_type: 'csv', mode: 'all' }, 120_000);
    return { readySeconds, firstExportSeconds: (done.doneAt - t0) / 1000 };
  } finally {
    await all.stop();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

const dataDir = await mkdtemp(join(tmpdir(), 'tableport-bench-backends-'));
try {
  const csv = await writeDataset(join(dataDir, 'rows.csv'), 'csv', opts.rows, opts.seed);
  log(`${opts.rows} rows as CSV: ${(csv.bytes / 1e6).toFixed(0)} MB`);
  const { redis, postgres } = await compareBackends(csv.path);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const rows = [
    ['job', 'Redis queue', 'PostgreSQL queue', 'PostgreSQL / Redis'],
    [
      `CSV import, ${opts.rows} rows`,
      `${redis.importSeconds.toFixed(2)} s`,
      `${postgres.importSeconds.toFixed(2)} s`,
      ratio(postgres.importSeconds, redis.importSeconds),
    ],
    [
      `CSV export, ${opts.rows} rows`,
      `${redis.exportSeconds.toFixed(2)} s`,
      `${postgres.exportSeconds.toFixed(2)} s`,
      ratio(postgres.exportSeconds, redis.exportSeconds),
    ],
    [
      `small exports (${opts.smallJobs} at once)`,
      `${redis.smallJobsPerSecond.toFixed(1)} jobs/s`,
      `${postgres.smallJobsPerSecond.toFixed(1)} jobs/s`,
      ratio(postgres.smallJobsPerSecond, redis.smallJobsPerSecond),
    ],
  ];
  console.log('\nqueue backends (target: the PostgreSQL queue within 10% of Redis on the 1M-row jobs)');
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.join(' | ')} |`);
    if (i === 0) console.log(`|${' --- |'.repeat(r.length)}`);
  }
  const within = Math.max(postgres.importSeconds / redis.importSeconds, postgres.exportSeconds / redis.exportSeconds) <= 1.1;
  console.log(`large jobs on the PostgreSQL queue within 10% of Redis: ${within ? 'yes' : 'NO'}`);
  if (opts.firstStart) {
    const first = await firstStart();
    console.log(
      `\nfirst start on an empty data folder (initdb included): API ready in ${first.readySeconds.toFixed(1)} s, ` +
        `first export finished ${first.firstExportSeconds.toFixed(1)} s after \`npm start\``,
    );
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
