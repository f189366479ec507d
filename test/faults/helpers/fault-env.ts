/**
 * A whole tableport deployment for one fault test file: its own Redis and PostgreSQL (which the
 * tests may kill), an in-process SMTP server, storage in a temp dir, and API and worker processes
 * started and killed at will. `close()` kills every process and removes every server and dir.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createPool, type Pool } from '../../../src/db/pool.js';
import { UsersRepository } from '../../../src/db/repositories/users.repository.js';
import { UsersService } from '../../../src/services/users.service.js';
import type { Job } from '../../../src/types/api.js';
import { startSmtpServer, type SmtpCapture } from '../../helpers/smtp.js';
import { waitFor as waitForAny } from '../../helpers/wait.js';
import { startOwnPostgres, startOwnRedis, type OwnPostgres, type OwnRedis } from './servers.js';

const ROLE_PROCESS = new URL('./role-process.ts', import.meta.url).pathname;

/**
 * Which queue the deployment's jobs wait in: Redis (REDIS_URL set, the default), or its own
 * PostgreSQL (`TEST_QUEUE_BACKEND=postgres`: no REDIS_URL, as on a machine with only PostgreSQL).
 * The fault suite runs once on each; its own Redis still starts, and only the Redis faults use it.
 */
export const QUEUE_IN_POSTGRES = process.env.TEST_QUEUE_BACKEND === 'postgres';

export { sleep } from '../../helpers/wait.js';

/** Polls `check` until it returns a value other than undefined/false; a check that throws (a server being restarted) is polled again. */
export function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  return waitForAny(what, () => check().catch(() => undefined), { timeoutMs, intervalMs: 100 });
}

export interface RoleProcess {
  child: ChildProcess;
  url: string | undefined;
  /** Whether the process is still alive. */
  alive(): boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface FaultEnv {
  redis: OwnRedis;
  pg: OwnPostgres;
  smtp: SmtpCapture;
  env: Record<string, string>;
  storageDir: string;
  outboxDir: string;
  /** A pool on the service's database, for assertions (reconnects after a PostgreSQL restart). */
  db: Pool;
  api: RoleProcess;
  startWorker(env?: Record<string, string>): Promise<RoleProcess>;
  /**
   * Kills every worker a test started that is still running (each file calls it after each test):
   * a test that failed half-way must not leave a worker taking the next test's jobs.
   */
  stopWorkers(): Promise<void>;
  startApi(env?: Record<string, string>): Promise<RoleProcess>;
  createUser(): Promise<{ token: string; email: string }>;
  request(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  createTable(token: string, name: string, fields: Array<{ name: string; type: string }>): Promise<number>;
  job(token: string, id: string): Promise<Job>;
  waitForJob(token: string, id: string, timeoutMs?: number): Promise<Job>;
  /** Mails received about a job. */
  mailsFor(jobId: string): number;
  close(): Promise<void>;
}

export interface FaultEnvOptions {
  redisPort: number;
  pgPort: number;
  env?: Record<string, string>;
}

export async function startFaultEnv(opts: FaultEnvOptions): Promise<FaultEnv> {
  const children = new Set<ChildProcess>();
  const workers = new Set<ChildProcess>();
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGCONT');
        c.kill('SIGKILL');
        await once(c, 'exit').catch(() => undefined);
      }
    }
    for (const f of cleanups.reverse()) await f().catch(() => undefined);
  };
  try {
    const redis = await startOwnRedis(opts.redisPort);
    cleanups.push(() => redis.close());
    const pg = await startOwnPostgres(opts.pgPort);
    cleanups.push(() => pg.close());
    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.close());
    const dir = await mkdtemp(join(tmpdir(), 'tableport-faults-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const databaseUrl = pg.urlFor('tableport');
    const storageDir = join(dir, 'files');
    const outboxDir = join(dir, 'outbox');
    const env: Record<string, string> = {
      PORT: '0',
      DATABASE_URL: databaseUrl,
      ...(QUEUE_IN_POSTGRES ? {} : { REDIS_URL: redis.url }),
      SMTP_URL: smtp.url,
      STORAGE_DIR: storageDir,
      DATA_DIR: join(dir, 'data'),
      MAIL_OUTBOX_DIR: outboxDir,
      SIGNING_SECRET: randomBytes(24).toString('hex'),
      QUEUE_PREFIX: 'faults',
      MAIL_BACKOFF_MS: '300',
      JOB_SWEEP_INTERVAL_SECONDS: '1',
      JOB_SWEEP_GRACE_SECONDS: '2',
      TASK_INTERVAL_SECONDS: '1',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      SHUTDOWN_TIMEOUT_MS: '5000',
      ...opts.env,
    };

    const startRole = async (roles: string, extra: Record<string, string> = {}): Promise<RoleProcess> => {
      const child = fork(ROLE_PROCESS, {
        env: { ...process.env, ...env, ...extra, FAULT_ROLES: roles },
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.add(child);
      if (roles === 'worker') workers.add(child);
      const [msg] = (await Promise.race([
        once(child, 'message'),
        once(child, 'exit').then(() => {
          throw new Error(`the ${roles} process exited during start-up`);
        }),
      ])) as [{ url?: string }];
      return {
        child,
        url: msg.url,
        alive: () => child.exitCode === null && child.signalCode === null,
        async kill(signal = 'SIGKILL') {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, 'exit');
          child.kill('SIGCONT');
          child.kill(signal);
          await exited;
        },
      };
    };

    let api = await startRole('api');
    const db = createPool(databaseUrl, { max: 3 });
    cleanups.push(() => db.end());
    const users = new UsersService(new UsersRepository(db));
    let n = 0;

    const fe: FaultEnv = {
      redis,
      pg,
      smtp,
      env,
      storageDir,
      outboxDir,
      db,
      get api() {
        return api;
      },
      startWorker: (extra) => startRole('worker', extra),
      async stopWorkers() {
        for (const c of workers) {
          workers.delete(c);
          if (c.exitCode !== null || c.signalCode !== null) continue;
          const exited = once(c, 'exit').catch(() => undefined);
          c.kill('SIGCONT');
          c.kill('SIGKILL');
          await exited;
        }
      },
      async startApi(extra) {
        api = await startRole('api', extra);
        return api;
      },
      async createUser() {
        const email = `fault${++n}@example.com`;
        const { token } = await users.addUserWithToken({ email, name: null, locale: null });
        return { token, email };
      },
      async request(token, method, path, body) {
        const res = await fetch(`${api.url}${path}`, {
          method,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
      },
      async createTable(token, name, fields) {
        const res = await fe.request(token, 'POST', '/oserve/v1/table/', { name, schema: { fields } });
        if (res.status !== 201) throw new Error(`create table: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body.id as number;
      },
      async job(token, id) {
        const res = await fe.request(token, 'GET', `/oserve/v1/jobs/${id}`);
        if (res.status !== 200) throw new Error(`job ${id}: ${res.status}`);
        return res.body as unknown as Job;
      },
      waitForJob: (token, id, timeoutMs = 90_000) =>
        waitFor(
          `job ${id} to end`,
          async () => {
            const j = await fe.job(token, id);
            return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
          },
          timeoutMs,
        ),
      mailsFor: (jobId) => smtp.messages.filter((m) => m.text.includes(jobId)).length,
      close,
    };
    return fe;
  } catch (err) {
    await close();
    throw err;
  }
}
