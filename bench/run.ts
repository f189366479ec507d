/**
 * `npm run bench`: tableport against psql on the same data, in the same run (issue 4).
 *
 * Makes a database and Redis prefix of its own, runs `tableport api` and `tableport worker` as
 * child processes with an in-process SMTP server, times each job from the HTTP request to its
 * success, and does the same work with `psql \copy`. Removes everything it made when it ends,
 * fails or is interrupted. Loopback only. See docs/benchmarks.md.
 */
import { cpus, loadavg, totalmem, tmpdir, type as osType, release } from 'node:os';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { startSmtpServer } from '../test/helpers/smtp.js';
import { BenchApi } from './lib/api-client.js';
import { renderProfile, summariseProfile } from './lib/cpu-profile.js';
import { FIELDS, SHAPES, writeDataset, type Shape } from './lib/dataset.js';
import { jobCreationLoad, refusalLoad, uploadLoad, type LoadContext } from './lib/load-bench.js';
import { MailClock } from './lib/mail-clock.js';
import { checkTargets, renderText } from './lib/report.js';
import { JOB_KINDS, type BenchResult, type JobKind, type SizeResult } from './lib/results.js';
import { Sandbox } from './lib/sandbox.js';
import { REPO, addUser, freePort, sourceNewerThanBuild, spawnRole, waitForHttp, waitForLog, type RoleProcess } from './lib/service.js';
import { runBundleBench, type BundleFigure } from './lib/bundle-bench.js';
import { runSize } from './lib/transfer-bench.js';
import { idleRss, idleTarget } from './lib/idle-rss.js';
import { renderS3, s3ExportBench, s3Target, S3_BENCH_PORT, type S3ExportFigure } from './lib/location-bench.js';
import { concurrentExports } from './lib/concurrent-exports.js';
import { FORMAT_EXPORTS, FORMAT_IMPORTS, renderFormats, runFormats, type FormatsResult } from './lib/formats-bench.js';

const positive = (v: string) => {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const sizeList = (v: string) => v.split(',').map((s) => positive(s.trim()));
const kindList = (v: string) => {
  if (v.trim() === 'none') return [];
  const kinds = v.split(',').map((s) => s.trim());
  for (const k of kinds)
    if (!(JOB_KINDS as readonly string[]).includes(k))
      throw new InvalidArgumentError(`unknown job "${k}" (one of ${JOB_KINDS.join(', ')})`);
  return kinds as JobKind[];
};
const shapeList = (v: string) => {
  const shapes = v.split(',').map((s) => s.trim());
  for (const s of shapes)
    if (!(SHAPES as readonly string[]).includes(s)) throw new InvalidArgumentError(`unknown shape "${s}" (one of ${SHAPES.join(', ')})`);
  return shapes as Shape[];
};

const formatList =
  <T extends string>(all: readonly T[]) =>
  (v: string): T[] => {
    if (v.trim() === 'none') return [];
    const types = v.split(',').map((s) => s.trim());
    for (const t of types)
      if (!(all as readonly string[]).includes(t)) throw new InvalidArgumentError(`unknown format "${t}" (one of ${all.join(', ')})`);
    return types as T[];
  };

const program = new Command('bench')
  .description('tableport against psql \\copy on the same rows: wall time, rows/s, worker peak RSS, mail delay; then the API under load')
  .option('--sizes <list>', 'row counts to run, comma-separated', sizeList, [10_000, 100_000, 1_000_000])
  .option('--rows <n>', 'run one size only (same as --sizes N)', positive)
  .option('--shapes <list>', 'row shapes to run: wide (10 mixed fields, ~230 B a row) and narrow (9 short fields, issue 12)', shapeList, [
    ...SHAPES,
  ])
  .option('--jobs <list>', `jobs to run (${JOB_KINDS.join(', ')})`, kindList, [...JOB_KINDS])
  .option(
    '--formats',
    'issue 22 only: every format exported and imported at each size, with its ratio to CSV in the same run and the anchors (psql, pg_dump --column-inserts, DuckDB CSV → Parquet)',
  )
  .option(
    '--format-exports <list>',
    `with --formats: the exports to run (${FORMAT_EXPORTS.join(', ')}, or none); keep csv for the ratios to CSV`,
    formatList(FORMAT_EXPORTS),
    [...FORMAT_EXPORTS],
  )
  .option(
    '--format-imports <list>',
    `with --formats: the imports to run, each of its format's export (${FORMAT_IMPORTS.join(', ')}, or none)`,
    formatList(FORMAT_IMPORTS),
    [...FORMAT_IMPORTS],
  )
  .option(
    '--backends',
    'issue 21 only: the CSV import and export and many small jobs on the Redis and the PostgreSQL queue, side by side, and the first start to the first export (bench/backends.ts)',
  )
  .option('--no-load', 'skip the API load part (autocannon, large upload)')
  .option('--no-bundle', 'skip the bundle part (several tables exported as one bundle and imported into an empty workspace)')
  .option('--bundle-tables <n>', 'tables in the bundle', positive, 5)
  .option('--bundle-rows <n>', 'rows in each table of the bundle', positive, 200_000)
  .option('--no-idle', 'skip the idle RSS of `npm start` (API and workers in one process)')
  .option('--no-s3', 'skip the export of the largest table to S3 (s3rver)')
  .option('--s3-file-type <type>', 'file type of the S3 export', 'parquet')
  .option('--no-concurrent', 'skip the concurrent exports (20 tables exported at once against psql 2 at a time)')
  .option('--concurrent-rows <n>', 'rows of each table of the concurrent exports (at most the largest wide size)', positive, 100_000)
  .option('--load-tables <n>', 'tables (= export jobs created) for the job-creation load', positive, 1000)
  .option('--load-seconds <n>', 'duration of the refusal-path load', positive, 10)
  .option('--connections <n>', 'autocannon connections', positive, 10)
  .option('--upload-mb <n>', 'size of the upload measured in the load part', positive, 170)
  .option('--seed <n>', 'seed of the generated rows', positive, 42)
  .option('--json', 'print the figures as JSON on stdout (progress still goes to stderr)')
  .option('--json-out <file>', 'also write the figures as JSON to this file')
  .option('--cpu-prof', 'profile the worker (node --cpu-prof) and print where its CPU time went')
  .option('--worker-node-args <flags>', 'extra node flags for the worker, e.g. "--trace-gc" (its log is kept with --keep)')
  .option('--worker-heap-mb <n>', "the worker's --max-old-space-size, as the README recommends for workers; 0 for Node's default", '192')
  .option(
    '--worker-semi-space-mb <n>',
    "the worker's --max-semi-space-size, as the README recommends for workers; 0 for Node's default (16)",
    '8',
  )
  .option('--keep', 'keep the temp dir (generated files, logs) instead of deleting it')
  .option('--job-timeout <s>', 'seconds one job may take', positive, 600)
  .option('--max-minutes <m>', 'the whole run stops after this long', positive, 60)
  .addHelpText(
    'after',
    '\nExamples:\n  npm run bench -- --sizes 10000\n  npm run bench -- --jobs none --no-load   (the bundle part only)\n  npm run bench -- --rows 1000000 --no-load --cpu-prof --jobs import-csv\n  npm run bench -- --json > bench.json\n  npm run bench -- --formats --rows 200000 --shapes narrow   (issue 22: every format against CSV)\n  npm run bench -- --formats --rows 1000000 --format-exports csv,sql --format-imports none   (the SQL export against pg_dump)\n  npm run bench -- --backends --rows 1000000   (issue 21: the Redis and the PostgreSQL queue)',
  );

interface Options {
  formats?: boolean;
  formatExports: Array<(typeof FORMAT_EXPORTS)[number]>;
  formatImports: Array<(typeof FORMAT_IMPORTS)[number]>;
  backends?: boolean;
  sizes: number[];
  rows?: number;
  shapes: Shape[];
  jobs: JobKind[];
  load: boolean;
  bundle: boolean;
  bundleTables: number;
  bundleRows: number;
  idle: boolean;
  s3: boolean;
  s3FileType: string;
  concurrent: boolean;
  concurrentRows: number;
  loadTables: number;
  loadSeconds: number;
  connections: number;
  uploadMb: number;
  seed: number;
  json?: boolean;
  jsonOut?: string;
  cpuProf?: boolean;
  workerNodeArgs?: string;
  workerHeapMb: string;
  workerSemiSpaceMb: string;
  keep?: boolean;
  jobTimeout: number;
  maxMinutes: number;
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** A PostgreSQL URL names a user; without one, the OS user (what psql would use). */
function withUser(url: string): string {
  const u = new URL(url);
  if (!u.username) u.username = userInfo().username;
  return u.toString();
}

async function main(): Promise<number> {
  const opts = program.parse(process.argv).opts<Options>();
  if (opts.backends) {
    const rows = opts.rows ?? Math.max(...opts.sizes);
    return (
      spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'bench', 'backends.ts'), '--rows', String(rows)], { stdio: 'inherit' })
        .status ?? 1
    );
  }
  const stale = sourceNewerThanBuild();
  if (stale)
    throw new Error(
      `${stale} is newer than dist/, which the service runs: run \`npm run build\` first (or set TABLEPORT_FROM_SOURCE=1 to run the sources)`,
    );
  // `--jobs none`: no single-table jobs, so no sizes (the bundle and load parts only).
  const sizes = opts.jobs.length === 0 ? [] : opts.rows ? [opts.rows] : opts.sizes;
  const started = Date.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const pgAdminUrl = withUser(process.env.BENCH_PG_ADMIN_URL ?? process.env.TEST_PG_ADMIN_URL ?? 'postgres://127.0.0.1:5432/postgres');
  const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  for (const url of [pgAdminUrl, redisUrl]) {
    const host = new URL(url).hostname;
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`the benchmark runs on loopback only; ${host} is not`);
  }

  const sandbox = new Sandbox({ pgAdminUrl, redisUrl, keepDir: Boolean(opts.keep), log });
  sandbox.cleanUpOnSignals();
  const deadline = setTimeout(() => {
    log(`the run took over ${opts.maxMinutes} min: stopping`);
    void sandbox.cleanup().finally(() => process.exit(124));
  }, opts.maxMinutes * 60_000);
  deadline.unref();

  try {
    await sandbox.create();
    log(`database ${sandbox.dbName}, redis prefix ${sandbox.queuePrefix}, files in ${sandbox.dir}`);
    const smtp = await startSmtpServer();
    sandbox.defer('smtp server', () => smtp.close());
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...sandbox.serviceEnv(redisUrl, smtp.url, baseUrl),
      PORT: String(port),
      // The S3 export goes to s3rver on loopback, which the outbound guard refuses unless named.
      OUTBOUND_ALLOW_HOSTS: `127.0.0.1:${S3_BENCH_PORT}`,
    };
    const track = sandbox.track.bind(sandbox);
    const token = await addUser(env, `bench-${sandbox.id}@example.com`, track);
    // First, while nothing else runs: what an idle `npm start` holds.
    const idle = opts.idle && !opts.formats ? await idleRss({ env, logDir: sandbox.dir, track, log }) : undefined;

    const profDir = join(tmpdir(), `tableport-bench-prof-${sandbox.id}`);
    if (opts.cpuProf) await mkdir(profDir, { recursive: true });
    const procs: RoleProcess[] = [];
    sandbox.defer('service processes', () => Promise.all(procs.map((p) => p.stop())));
    const apiProc = await spawnRole('api', { env, logDir: sandbox.dir, track, ready: () => waitForHttp(`${baseUrl}/healthz`) });
    procs.push(apiProc);
    const worker = await spawnRole('worker', {
      env,
      logDir: sandbox.dir,
      track,
      nodeArgs: [
        ...(Number(opts.workerHeapMb) > 0 ? [`--max-old-space-size=${Number(opts.workerHeapMb)}`] : []),
        ...(Number(opts.workerSemiSpaceMb) > 0 ? [`--max-semi-space-size=${Number(opts.workerSemiSpaceMb)}`] : []),
        ...(opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
        ...(opts.workerNodeArgs?.split(/\s+/).filter(Boolean) ?? []),
      ],
      ready: (p) => waitForLog(p, 'workers started'),
    });
    procs.push(worker);
    log(`api pid ${apiProc.pid} at ${baseUrl}, worker pid ${worker.pid}`);

    const jobTimes = sandbox.jobTimesSource();
    const api = new BenchApi(baseUrl, token, jobTimes);
    const mail = new MailClock(smtp);
    const jobTimeoutMs = opts.jobTimeout * 1000;
    /** With --cpu-prof: the worker's main-thread profile, written when it exits (so it is stopped here). */
    const workerProfile = async (): Promise<Awaited<ReturnType<typeof summariseProfile>> | undefined> => {
      await worker.stop();
      // One profile per thread; the main thread's (thread 0) is the worker's, the other is tsx's loader.
      const files = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile')).sort();
      const file = files.find((f) => /\.0\.\d+\.cpuprofile$/.test(f)) ?? files[0];
      if (file) return await summariseProfile(join(profDir, file), REPO);
      log(`no profile in ${profDir}`);
      return undefined;
    };
    if (opts.formats) {
      const figures: FormatsResult[] = [];
      const fctx = { api, worker, databaseUrl: sandbox.databaseUrl, dir: sandbox.dir, seed: opts.seed, jobTimeoutMs, log };
      for (const shape of opts.shapes)
        for (const rows of opts.rows ? [opts.rows] : opts.sizes)
          figures.push(await runFormats({ ...fctx, shape, exports: opts.formatExports, imports: opts.formatImports }, rows));
      const profile = opts.cpuProf ? await workerProfile() : undefined;
      const asJson = `${JSON.stringify({ machine: machine(pgAdminUrl), started_at: new Date(started).toISOString(), formats: figures, ...(profile ? { worker_profile: profile } : {}) }, null, 2)}\n`;
      if (opts.jsonOut) await writeFile(opts.jsonOut, asJson);
      process.stdout.write(opts.json ? asJson : `${renderFormats(figures)}\n`);
      if (profile && !opts.json) process.stdout.write(`\nworker CPU profile (kept): ${renderProfile(profile)}\n`);
      return figures.every((f) => f.jobs.every((j) => j.check_ok) && f.targets.every((t) => t.met)) ? 0 : 1;
    }
    const results: SizeResult[] = [];
    let bigCsv: { path: string; rows: number; mb: number } | undefined;
    let fullTable: { tableId: number; rows: number } | undefined;
    for (const shape of opts.shapes)
      for (const rows of sizes) {
        const ctx = {
          api,
          apiProc,
          worker,
          mail,
          databaseUrl: sandbox.databaseUrl,
          dir: sandbox.dir,
          seed: opts.seed,
          jobTimeoutMs,
          kinds: new Set(opts.jobs),
          shape,
          log,
        };
        const r = await runSize(ctx, rows);
        const { csvPath, fullTableId, ...figures } = r;
        results.push(figures);
        if (shape === 'wide' && (!fullTable || rows > fullTable.rows)) fullTable = { tableId: fullTableId, rows };
        // Keep only the largest wide CSV (the upload measurement may reuse it); the rest is disk space.
        if (shape === 'wide' && (!bigCsv || rows > bigCsv.rows)) bigCsv = { path: csvPath, rows, mb: r.csv_mb };
        for (const f of await readdir(sandbox.dir))
          if (f.startsWith(`${shape}-${rows}-`) || (f.startsWith(`rows-${shape}-${rows}.`) && join(sandbox.dir, f) !== bigCsv?.path))
            await rm(join(sandbox.dir, f), { force: true });
      }

    let concurrent: BenchResult['concurrent'];
    if (opts.concurrent && fullTable) {
      const rows = Math.min(opts.concurrentRows, fullTable.rows);
      const cctx = { api, databaseUrl: sandbox.databaseUrl, dir: sandbox.dir, fields: FIELDS, jobTimeoutMs, log };
      concurrent = await concurrentExports(cctx, fullTable.tableId, 20, rows);
    } else if (opts.concurrent) log('concurrent exports skipped: they copy the rows of a wide size (--shapes wide)');

    let s3Export: S3ExportFigure | undefined;
    if (opts.s3 && fullTable) {
      s3Export = await s3ExportBench(
        { api, worker, jobTimeoutMs, log, defer: (what, fn) => sandbox.defer(what, fn) },
        fullTable,
        opts.s3FileType,
      );
    }

    let bundle: BundleFigure | null = null;
    if (opts.bundle) {
      const target = new BenchApi(baseUrl, await addUser(env, `bench-target-${sandbox.id}@example.com`, track), jobTimes);
      bundle = await runBundleBench(
        { api, target, worker, databaseUrl: sandbox.databaseUrl, dir: sandbox.dir, seed: opts.seed, jobTimeoutMs, log },
        opts.bundleTables,
        opts.bundleRows,
      );
    }

    let load: BenchResult['load'] = null;
    if (opts.load) {
      log('\n── API under load ──');
      const lctx: LoadContext = { api, token, apiProc, mail, jobTimeoutMs, log };
      let upload = bigCsv && bigCsv.mb >= opts.uploadMb * 0.85 ? bigCsv : undefined;
      if (!upload) {
        // Rows of ~230 bytes in CSV: enough of them for the size asked.
        const rows = Math.ceil((opts.uploadMb * 2 ** 20) / 230);
        const path = join(sandbox.dir, 'upload.csv');
        const g = await writeDataset(path, 'csv', rows, opts.seed + 1);
        upload = { path, rows, mb: g.bytes / 2 ** 20 };
      }
      const table = await api.createTable('upload', FIELDS);
      const up = await uploadLoad(lctx, upload.path, upload.rows, table.id);
      const created = await jobCreationLoad(lctx, opts.loadTables, opts.connections);
      const refusal = await refusalLoad(lctx, opts.loadSeconds, opts.connections);
      const refusalFull = fullTable ? await refusalLoad(lctx, opts.loadSeconds, opts.connections, fullTable) : undefined;
      load = {
        upload: up,
        job_creation: created.figure,
        drain: created.drain,
        refusal,
        ...(refusalFull ? { refusal_full_table: refusalFull } : {}),
      };
    }
    mail.stop();

    const result: BenchResult = {
      machine: machine(pgAdminUrl),
      load_average: { start: round2(loadAtStart), end: round2(loadavg()[0] ?? 0) },
      seed: opts.seed,
      started_at: new Date(started).toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      sizes: results,
      ...(concurrent ? { concurrent } : {}),
      bundle,
      load,
      targets: [
        ...checkTargets(results, concurrent, bundle),
        ...(s3Export ? [s3Target(s3Export)] : []),
        ...(idle ? [idleTarget(idle)] : []),
      ],
      ...(idle ? { idle } : {}),
      ...(s3Export ? { s3_export: s3Export } : {}),
    };
    const profile = opts.cpuProf ? await workerProfile() : undefined;
    const asJson = `${JSON.stringify(profile ? { ...result, worker_profile: profile } : result, null, 2)}\n`;
    if (opts.jsonOut) await writeFile(opts.jsonOut, asJson);
    if (opts.json) process.stdout.write(asJson);
    else {
      process.stdout.write(`${renderText(result)}\n`);
      if (s3Export) process.stdout.write(`${renderS3(s3Export)}\n`);
      if (profile) process.stdout.write(`\nworker CPU profile (kept): ${renderProfile(profile)}\n`);
    }
    return result.targets.every((t) => t.met !== false) ? 0 : 1;
  } finally {
    clearTimeout(deadline);
    await sandbox.cleanup();
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function machine(pgAdminUrl: string): BenchResult['machine'] {
  let postgres = '?';
  try {
    postgres =
      execFileSync('psql', ['-X', '-tA', '-d', pgAdminUrl, '-c', 'SHOW server_version'], { encoding: 'utf8' }).trim().split(' ')[0] ?? '?';
  } catch {
    // reported as "?"
  }
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model.trim() ?? '?',
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    postgres,
    os: `${osType()} ${release()}`,
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
