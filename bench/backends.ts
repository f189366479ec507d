/**
 * `npm run bench:backends` (also the last part of `npm run bench`): the same jobs with their queue
 * in Redis (REDIS_URL set) and in PostgreSQL (REDIS_URL unset), in one run, and the first start of
 * `npm start` on a fresh data folder with nothing configured (embedded PostgreSQL, its initdb
 * included) to its first finished export. Prints figures and the PostgreSQL/Redis ratios.
 *
 * Each backend gets a database of its own (and a Redis prefix), `tableport api` and `tableport
 * worker` as child processes and an in-process SMTP server; everything is removed at the end.
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
  .option('--no-first-start', 'skip the first start on a fresh data folder')
  .option('--seed <n>', 'seed of the generated rows', positive, 42)
  .parse();
const opts = program.opts<{ rows: number; smallJobs: number; firstStart: boolean; seed: number }>();

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

async function onBackend(backend: Backend, csvPath: string): Promise<BackendFigures> {
  const sandbox = new Sandbox({ pgAdminUrl, redisUrl, keepDir: false, log });
  try {
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
    const api = new BenchApi(baseUrl, token, sandbox.jobTimesSource());
    const timeout = 20 * 60_000;

    const table = await api.createTable(`backend_${backend}`, FIELDS);
    const imported = await api.import(table.id, csvPath, timeout);
    const importSeconds = (imported.doneAt - imported.sentAt) / 1000;
    log(`${backend}: import of ${opts.rows} rows ${importSeconds.toFixed(2)} s`);
    await sleep(1100);
    const exported = await api.export(table.id, { file_type: 'csv', mode: 'all' }, timeout);
    const exportSeconds = (exported.doneAt - exported.sentAt) / 1000;
    log(`${backend}: export of ${opts.rows} rows ${exportSeconds.toFixed(2)} s`);

    // Many small jobs: the export of an empty table, one table each, every one requested at once.
    const tables: number[] = [];
    for (let i = 0; i < opts.smallJobs; i++) {
      const t = await api.createTable(`small_${i}`, FIELDS.slice(0, 2));
      tables.push(t.id);
    }
    const db = new pg.Pool({ connectionString: sandbox.databaseUrl, max: 2 });
    sandbox.defer('counting pool', () => db.end());
    const t0 = performance.now();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    for (let i = 0; i < tables.length; i += 20) {
      await Promise.all(
        tables.slice(i, i + 20).map(async (id) => {
          const res = await fetch(`${baseUrl}/oserve/v1/table/${id}/export/`, {
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
      if (performance.now() - t0 > timeout) throw new Error(`small exports: ${done} of ${tables.length} done in time`);
      await sleep(50);
    }
    const smallJobsPerSecond = tables.length / ((performance.now() - t0) / 1000);
    log(`${backend}: ${tables.length} small exports, ${smallJobsPerSecond.toFixed(1)} jobs/s`);
    return { importSeconds, exportSeconds, smallJobsPerSecond };
  } finally {
    await sandbox.cleanup();
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
  const redis = await onBackend('redis', csv.path);
  const postgres = await onBackend('postgres', csv.path);
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
