#!/usr/bin/env node
// Runs the test suite with Node's own runner, on whatever this machine has:
// - PostgreSQL at TEST_PG_ADMIN_URL (default: this user on 127.0.0.1:5432), or else an embedded
//   PostgreSQL started for the run;
// - Redis at TEST_REDIS_URL (default 127.0.0.1:6379), or else a redis-server started for the run,
//   or else none: jobs then queue in PostgreSQL, and the tests about Redis itself are skipped.
// With Redis, the job-level tests run a second time with jobs queued in PostgreSQL, against an
// embedded PostgreSQL of their own (one set of tests, two backends). One line says what was found.
//
// Arguments narrow the run (`npm test -- test/unit`, or one file); the second pass then runs only
// with TEST_BOTH_BACKENDS=1, and TEST_BOTH_BACKENDS=0 leaves it out of a whole run.
// Node 20 does not expand globs given to --test, so files are found here.
// --test-force-exit: a handle a test forgot to close must not hang CI until its time limit.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const roots = process.argv.slice(2);
// Suites with scripts of their own, run only when named (`npm run test:faults`, `npm run test:e2e`).
const OWN_SCRIPT = [join('test', 'faults'), join('test', 'e2e')];
const files = (roots.length ? roots : ['test'])
  .flatMap((r) => (statSync(r).isDirectory() ? find(r) : [r]))
  .filter((f) => roots.length > 0 || !OWN_SCRIPT.some((d) => f.startsWith(`${d}/`)))
  .sort();

/** The tests whose subject is the life of jobs: they run on both queue backends. */
const JOB_LEVEL = [
  join('test', 'integration', 'core'),
  join('test', 'integration', 'bundles'),
  join('test', 'integration', 'webhooks'),
  join('test', 'integration', 'formats', 'round-trip.test.ts'),
  join('test', 'integration', 'formats', 'dry-run.test.ts'),
  join('test', 'integration', 'locations', 'rest-s3-file-http.test.ts'),
  // bull-board on the PostgreSQL queue.
  join('test', 'integration', 'instruments', 'admin-queues.test.ts'),
];

/**
 * Test-only servers kept out of the main install (azurite alone is 130 MB): test/tools has its own
 * package.json and lock, installed once, the first time a run includes a test that needs them.
 */
const TOOLS_USERS = [join('test', 'integration', 'locations')];
function ensureTestTools() {
  if (!files.some((f) => TOOLS_USERS.some((d) => f.startsWith(`${d}/`)))) return;
  try {
    statSync(join('test', 'tools', 'node_modules', 'azurite', 'package.json'));
    return;
  } catch {
    // not installed yet
  }
  console.log('tests: installing the test-only servers of test/tools (azurite), once');
  const res = spawnSync('npm', ['ci', '--prefix', join('test', 'tools'), '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: 'inherit',
  });
  if (res.status !== 0) throw new Error('npm ci --prefix test/tools failed: the Azure Blob tests need azurite from the npm registry');
}

const cleanups = [];
async function cleanUp() {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
}

function tcpAnswers(host, port, ms = 1500) {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, host, () => done(true));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function postgresAnswers(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** An embedded PostgreSQL for this run, in a folder of its own; its admin URL. */
async function embeddedPostgres(label) {
  const { register } = await import('tsx/esm/api');
  register();
  const { openEmbeddedPostgres } = await import('../src/db/embedded/embedded-postgres.ts');
  const { createLogger } = await import('../src/logger.ts');
  const dataDir = mkdtempSync(join(tmpdir(), `tableport-test-pg-${label}-`));
  // mkdtemp makes it private; as root, PostgreSQL runs as the user postgres, which must enter it.
  chmodSync(dataDir, 0o755);
  const db = await openEmbeddedPostgres({ dataDir, logger: createLogger('warn'), role: 'service' });
  cleanups.push(async () => {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const u = new URL(db.url);
  u.pathname = '/postgres';
  return { url: u.toString(), version: db.version };
}

async function redisServer() {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  cleanups.push(async () => {
    child.kill('SIGTERM');
  });
  for (let i = 0; i < 50 && !(await tcpAnswers('127.0.0.1', port, 200)); i++) await new Promise((r) => setTimeout(r, 100));
  return `redis://127.0.0.1:${port}`;
}

function runFiles(list, env) {
  const concurrency = process.env.TEST_CONCURRENCY ?? '2';
  const reporter = process.env.TEST_REPORTER ?? 'spec';
  const res = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      new URL('./blocking-stdio.js', import.meta.url).href,
      '--test',
      '--test-force-exit',
      `--test-concurrency=${concurrency}`,
      `--test-reporter=${reporter}`,
      ...list,
    ],
    { stdio: 'inherit', env },
  );
  return res.status ?? 1;
}

let status = 1;
try {
  ensureTestTools();
  const env = { ...process.env };
  const user = process.env.PGUSER ?? process.env.USER ?? userInfo().username;
  const pgAdmin = env.TEST_PG_ADMIN_URL ?? `postgres://${user}@127.0.0.1:5432/postgres`;
  let pgSaid;
  if (await postgresAnswers(pgAdmin)) pgSaid = `PostgreSQL at ${new URL(pgAdmin).host}`;
  else {
    const emb = await embeddedPostgres('main');
    env.TEST_PG_ADMIN_URL = emb.url;
    pgSaid = `no PostgreSQL answered at ${new URL(pgAdmin).host}: an embedded PostgreSQL ${emb.version} started for this run`;
  }
  const redisUrl = env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const ru = new URL(redisUrl);
  let redisSaid;
  let haveRedis = true;
  if (env.TEST_QUEUE_BACKEND === 'postgres') {
    redisSaid = 'jobs queue in PostgreSQL (TEST_QUEUE_BACKEND=postgres)';
  } else if (await tcpAnswers(ru.hostname, Number(ru.port || 6379))) {
    redisSaid = `jobs queue in Redis at ${ru.host}`;
  } else {
    const started = await redisServer();
    if (started) {
      env.TEST_REDIS_URL = started;
      redisSaid = `no Redis answered at ${ru.host}: a redis-server started for this run`;
    } else {
      haveRedis = false;
      env.TEST_QUEUE_BACKEND = 'postgres';
      env.TEST_NO_REDIS = '1';
      redisSaid = 'no Redis, and no redis-server to start: jobs queue in PostgreSQL, and the tests about Redis itself are skipped';
    }
  }
  console.log(`tests: ${pgSaid}; ${redisSaid}.`);
  status = runFiles(files, env);

  const both =
    haveRedis &&
    env.TEST_QUEUE_BACKEND !== 'postgres' &&
    process.env.TEST_BOTH_BACKENDS !== '0' &&
    (roots.length === 0 || process.env.TEST_BOTH_BACKENDS === '1');
  const second = files.filter((f) => JOB_LEVEL.some((d) => f === d || f.startsWith(`${d}/`)));
  if (both && second.length) {
    // Its own embedded PostgreSQL: the PostgreSQL queue holds more connections per test server,
    // and the shared server's max_connections is 100.
    const emb = await embeddedPostgres('queue');
    console.log(`tests: the job-level tests again, with jobs queued in PostgreSQL (an embedded PostgreSQL ${emb.version}).`);
    const pgStatus = runFiles(second, { ...env, TEST_QUEUE_BACKEND: 'postgres', TEST_PG_ADMIN_URL: emb.url });
    status = status || pgStatus;
  }
} catch (err) {
  console.error(`tests: could not set up the test environment: ${err instanceof Error ? err.message : String(err)}`);
  status = 1;
} finally {
  await cleanUp();
}
process.exit(status);
