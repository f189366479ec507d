/**
 * A real tableport for a test file: a database and Redis prefix of its own, storage and outbox in
 * a temp dir, an in-process SMTP server, and the API and workers in this process. `close()`
 * removes all of it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { UsersRepository } from '../../src/db/repositories/users.repository.js';
import { createLogger } from '../../src/logger.js';
import { start, type Role, type Running } from '../../src/main.js';
import { UsersService } from '../../src/services/users.service.js';
import type { WorkerTuning } from '../../workers/main.js';
import { PG_ADMIN_URL, REDIS_URL, TEST_LOG_LEVEL, TEST_QUEUE_BACKEND, databaseUrlFor } from './env.js';
import { dropRedisPrefix } from './redis.js';
import { startSmtpServer, type SmtpCapture } from './smtp.js';
import { defined } from './defined.js';
import { TestClock } from './clock.js';

export interface TestServer {
  baseUrl: string;
  config: Config;
  smtp: SmtpCapture;
  /** A pool on the test database, for assertions on what was written. */
  db: Pool;
  /** The time the service decides by (link expiry, the minute, sweeps): move it instead of sleeping. */
  clock: TestClock;
  createUser(email?: string, opts?: { name?: string; locale?: 'en' | 'zh-CN' }): Promise<{ userId: number; token: string; email: string }>;
  /** Another process-like instance on the same database and Redis prefix (e.g. a second API). */
  startPeer(roles: Role[], tuning?: WorkerTuning): Promise<Running>;
  /** The environment a child process needs to join this instance (`tableport worker` in a test). */
  childEnv(): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  roles?: Role[];
  tuning?: WorkerTuning;
  /** Start without SMTP_URL: mails go to the .eml outbox. */
  outbox?: boolean;
  /** Where the service's log lines go (default stdout); set `env.LOG_LEVEL` to choose what is logged. */
  logTo?: { write(line: string): void };
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const id = randomBytes(5).toString('hex');
  const dbName = `tableport_test_${id}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();

  const dir = await mkdtemp(join(tmpdir(), 'tableport-test-'));
  const smtp = await startSmtpServer();
  const env: Record<string, string> = {
    PORT: '0',
    DATABASE_URL: databaseUrlFor(dbName),
    ...(TEST_QUEUE_BACKEND === 'redis' ? { REDIS_URL } : {}),
    STORAGE_DIR: join(dir, 'files'),
    DATA_DIR: join(dir, 'data'),
    MAIL_OUTBOX_DIR: join(dir, 'outbox'),
    SIGNING_SECRET: randomBytes(24).toString('hex'),
    QUEUE_PREFIX: `tptest-${id}`,
    MAIL_BACKOFF_MS: '200',
    LOG_LEVEL: TEST_LOG_LEVEL,
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...(opts.outbox ? {} : { SMTP_URL: smtp.url }),
    ...opts.env,
  };
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel, { test: id }, opts.logTo);
  const peers: Running[] = [];
  const clock = new TestClock();
  const main = await start(config, opts.roles ?? ['api', 'worker'], logger, { tuning: opts.tuning, clock });
  // Links in mails must point at this very server.
  const baseUrl = defined(main.url, 'main.url');
  if (!opts.env?.PUBLIC_URL) config.publicUrl = baseUrl;
  const db = createPool(config.databaseUrl, { max: 3 });
  const users = new UsersService(new UsersRepository(db));
  let n = 0;

  return {
    baseUrl,
    config,
    smtp,
    db,
    clock,
    async createUser(email, o = {}) {
      const addr = email ?? `user${++n}-${id}@example.com`;
      const { user, token } = await users.addUserWithToken({ email: addr, name: o.name ?? null, locale: o.locale ?? null });
      return { userId: user.id, token, email: addr };
    },
    async startPeer(roles, tuning) {
      const peer = await start({ ...config, port: 0 }, roles, logger, { tuning, clock });
      peers.push(peer);
      return peer;
    },
    childEnv() {
      return { ...process.env, ...env, PUBLIC_URL: config.publicUrl };
    },
    async close() {
      for (const p of peers) await p.close();
      await main.close();
      await db.end();
      await smtp.close();
      if (TEST_QUEUE_BACKEND === 'redis') await dropRedisPrefix(REDIS_URL, config.queuePrefix);
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await a.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
