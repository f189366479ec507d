/**
 * `npm run bench:scale`: tableport scaled out on one host (issue 12). Two `tableport api`
 * processes and up to two `tableport worker` processes against one Redis and one PostgreSQL:
 *
 * 1. the per-table minute holds across APIs (an export taken through API 1 refuses the same
 *    table's export through API 2 with `too_frequent`);
 * 2. many small exports (one per table, sent alternately to both APIs, `--concurrency` in flight)
 *    with 1 worker, then as many on fresh tables with 2 workers: jobs/s of each phase, and how many
 *    jobs each worker took (BullMQ records the worker's name on each job it runs).
 *
 * Makes its own database, Redis prefix and temp dir and removes them at the end. Loopback only.
 */
import { cpus, loadavg, userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { startSmtpServer } from '../test/helpers/smtp.js';
import { ApiError, BenchApi } from './lib/api-client.js';
import { cpuSeconds } from './lib/proc-stat.js';
import { Sandbox } from './lib/sandbox.js';
import { addUser, freePort, spawnRole, waitForHttp, waitForLog, type RoleProcess } from './lib/service.js';

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

const opts = new Command('bench:scale')
  .description('two APIs and one, then two workers on one Redis and one PostgreSQL: the minute across APIs, jobs per worker, jobs/s')
  .option('--jobs <n>', 'small export jobs per phase (one table each)', positive, 150)
  .option('--rows <n>', 'rows in each small table', positive, 200)
  .option('--concurrency <n>', 'export requests in flight', positive, 10)
  .option('--json', 'print the figures as JSON')
  .parse(process.argv)
  .opts<{ jobs: number; rows: number; concurrency: number; json?: boolean }>();

const log = (msg: string) => process.stderr.write(`${msg}\n`);

interface Phase {
  workers: number;
  jobs: number;
  seconds: number;
  jobs_per_s: number;
  /** Jobs each worker process took, by its name (host:pid). */
  per_worker: Record<string, number>;
  /** Worker CPU seconds, per process, during the phase. */
  worker_cpu_s: number[];
}

const cpuSecondsOf = (pid: number) => cpuSeconds(pid);

async function main(): Promise<number> {
  const pgAdminUrl = process.env.BENCH_PG_ADMIN_URL ?? `postgres://${userInfo().username}@127.0.0.1:5432/postgres`;
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  for (const url of [pgAdminUrl, redisUrl]) {
    const host = new URL(url).hostname;
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`the benchmark runs on loopback only; ${host} is not`);
  }
  const sandbox = new Sandbox({ pgAdminUrl, redisUrl, keepDir: false, log });
  sandbox.cleanUpOnSignals();
  const load0 = loadavg()[0] ?? 0;
  try {
    await sandbox.create();
    const smtp = await startSmtpServer();
    sandbox.defer('smtp server', () => smtp.close());
    const ports = [await freePort(), await freePort()];
    const base = sandbox.serviceEnv(redisUrl, smtp.url, `http://127.0.0.1:${ports[0]}`);
    const track = sandbox.track.bind(sandbox);
    const token = await addUser({ ...base, PORT: String(ports[0]) }, `scale-${sandbox.id}@example.com`, track);
    const procs: RoleProcess[] = [];
    sandbox.defer('service processes', () => Promise.all(procs.map((p) => p.stop())));
    const apis: BenchApi[] = [];
    for (const [i, port] of ports.entries()) {
      const url = `http://127.0.0.1:${port}`;
      procs.push(
        await spawnRole('api', {
          env: { ...base, PORT: String(port) },
          logDir: sandbox.dir,
          track,
          name: `api${i + 1}`,
          ready: () => waitForHttp(`${url}/healthz`),
        }),
      );
      apis.push(new BenchApi(url, token));
    }
    const startWorker = async (n: number) => {
      const w = await spawnRole('worker', {
        env: base,
        logDir: sandbox.dir,
        track,
        name: `worker${n}`,
        nodeArgs: ['--max-old-space-size=192', '--max-semi-space-size=8'],
        ready: (p) => waitForLog(p, 'workers started'),
      });
      procs.push(w);
      return w;
    };
    const workers = [await startWorker(1)];
    const [api1, api2] = apis as [BenchApi, BenchApi];

    log(`creating ${2 * opts.jobs + 1} tables of ${opts.rows} rows`);
    const fields = [
      { name: 'title', type: 'string' as const },
      { name: 'qty', type: 'integer' as const },
    ];
    const rows = Array.from({ length: opts.rows }, (_, i) => ({ title: `row ${i}, "quoted"`, qty: i }));
    const tables: number[] = [];
    await pool(2 * opts.jobs + 1, 4, async (i) => {
      const t = await api1.createTable(`scale_${i}`, fields);
      const res = await fetch(`${api1.baseUrl}/oserve/v1/table/${t.id}/record/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(rows),
      });
      if (res.status !== 201) throw new Error(`insert: ${res.status} ${await res.text()}`);
      tables[i] = t.id;
    });

    // 1. The minute across APIs.
    const first = tables[2 * opts.jobs] as number;
    const taken = await api1.export(first, { file_type: 'csv', mode: 'all' }, 60_000);
    let minute = 'NOT refused';
    try {
      await api2.export(first, { file_type: 'csv', mode: 'all' }, 60_000);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400 && err.message.includes('too_frequent'))
        minute = 'refused by API 2 with 400 too_frequent';
      else throw err;
    }
    log(`minute across APIs: export through API 1 ${taken.job.status}; the same table through API 2: ${minute}`);

    // 2. Many small jobs, 1 worker then 2.
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    sandbox.defer('redis client', async () => redis.disconnect());
    const phases: Phase[] = [];
    for (const count of [1, 2]) {
      if (count === 2) workers.push(await startWorker(2));
      const mine = tables.slice((count - 1) * opts.jobs, count * opts.jobs);
      const cpu0 = await Promise.all(workers.map((w) => cpuSecondsOf(w.pid)));
      const t0 = performance.now();
      const ids: string[] = [];
      await pool(mine.length, opts.concurrency, async (i) => {
        const api = i % 2 === 0 ? api1 : api2;
        const f = await api.export(mine[i] as number, { file_type: 'csv', mode: 'all' }, 120_000);
        if (f.job.rows !== opts.rows) throw new Error(`job ${f.job.id}: ${f.job.rows} rows, expected ${opts.rows}`);
        ids.push(f.job.id);
      });
      const seconds = (performance.now() - t0) / 1000;
      const cpu1 = await Promise.all(workers.map((w) => cpuSecondsOf(w.pid)));
      const perWorker: Record<string, number> = {};
      for (const id of ids) {
        const by = (await redis.hget(`${sandbox.queuePrefix}:export:${id}`, 'pb')) ?? '(unknown)';
        perWorker[by] = (perWorker[by] ?? 0) + 1;
      }
      const phase: Phase = {
        workers: count,
        jobs: ids.length,
        seconds: round(seconds),
        jobs_per_s: round(ids.length / seconds),
        per_worker: perWorker,
        worker_cpu_s: cpu1.map((c, k) => round(c - (cpu0[k] ?? 0))),
      };
      phases.push(phase);
      log(
        `${count} worker(s): ${phase.jobs} exports in ${phase.seconds} s = ${phase.jobs_per_s} jobs/s; per worker ${JSON.stringify(perWorker)}; worker CPU s ${phase.worker_cpu_s.join(', ')}`,
      );
    }
    const result = {
      cpus: cpus().length,
      load_average: { start: round(load0), end: round(loadavg()[0] ?? 0) },
      minute_across_apis: minute,
      phases,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(`scale-out · ${result.cpus} CPUs · load average ${result.load_average.start} → ${result.load_average.end}\n`);
      process.stdout.write(`per-table minute across 2 APIs: ${minute}\n`);
      for (const p of phases)
        process.stdout.write(
          `${p.workers} worker(s): ${p.jobs} exports of ${opts.rows} rows in ${p.seconds} s (${p.jobs_per_s} jobs/s), per worker ${JSON.stringify(p.per_worker)}, worker CPU s ${p.worker_cpu_s.join(' + ')}\n`,
        );
    }
    return minute.startsWith('refused') ? 0 : 1;
  } finally {
    await sandbox.cleanup();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Runs `task(0..n-1)` with at most `width` at a time. */
async function pool(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, lane));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`bench:scale failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
