/**
 * Everything the benchmark makes outside itself, and the undoing of it: a database
 * `tableport_bench_<random>`, a Redis key prefix, a temp dir, child processes. Clean-ups run in
 * reverse order on success, on failure and on Ctrl-C/SIGTERM, each at most once.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { dropRedisPrefix } from '../../test/helpers/redis.js';
import type { JobTimesSource } from './api-client.js';

export interface SandboxOptions {
  pgAdminUrl: string;
  redisUrl: string;
  /** Keep the temp dir (generated files, logs, profiles) instead of deleting it. */
  keepDir: boolean;
  log: (msg: string) => void;
}

export class Sandbox {
  readonly id = randomBytes(4).toString('hex');
  readonly dbName = `tableport_bench_${this.id}`;
  readonly queuePrefix = `tpbench-${this.id}`;
  dir = '';
  private readonly cleanups: Array<{ name: string; fn: () => Promise<unknown> }> = [];
  private cleaning: Promise<void> | undefined;
  private readonly children = new Set<ChildProcess>();

  /**
   * The environment of a tableport process in this sandbox: its database, key prefix, folders,
   * the SMTP sink and a fresh signing secret (every process of one run must get the same object).
   */
  serviceEnv(redisUrl: string, smtpUrl: string, publicUrl: string): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PUBLIC_URL: publicUrl,
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: this.queuePrefix,
      STORAGE_DIR: join(this.dir, 'storage'),
      DATA_DIR: join(this.dir, 'data'),
      MAIL_OUTBOX_DIR: join(this.dir, 'outbox'),
      SMTP_URL: smtpUrl,
      SIGNING_SECRET: randomBytes(24).toString('hex'),
      LOG_LEVEL: 'info',
    };
  }

  /** True once clean-up has begun: nothing new may start (a service started now would outlive it). */
  get closing(): boolean {
    return this.cleaning !== undefined;
  }

  /**
   * Registers a child process the moment it is spawned, so clean-up ends it even when it is not
   * ready yet. A tableport process left running would re-create the dropped database on start.
   * Throws (after killing it) when clean-up has already begun.
   */
  track(child: ChildProcess): void {
    if (this.closing) {
      child.kill('SIGKILL');
      throw new Error('the benchmark is stopping');
    }
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  constructor(private readonly opts: SandboxOptions) {}

  get databaseUrl(): string {
    const u = new URL(this.opts.pgAdminUrl);
    u.pathname = `/${this.dbName}`;
    return u.toString();
  }

  async create(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'tableport-bench-'));
    this.defer('temp dir', () =>
      this.opts.keepDir ? Promise.resolve(this.opts.log(`kept ${this.dir}`)) : rm(this.dir, { recursive: true, force: true }),
    );
    // The key prefix is deleted even if nothing was written: a crashed service may have written some.
    this.defer('redis prefix', () => dropRedisPrefix(this.opts.redisUrl, this.queuePrefix));
    await adminQuery(this.opts.pgAdminUrl, `CREATE DATABASE ${this.dbName}`);
    this.defer('database', () => adminQuery(this.opts.pgAdminUrl, `DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`));
  }

  /**
   * When a job started and succeeded, read from the service's jobs table (its `finished_at` is written
   * with the status, to the microsecond), so a job's time is not rounded up to the next poll. One connection,
   * closed at clean-up.
   */
  jobTimesSource(): JobTimesSource {
    const pool = new pg.Pool({ connectionString: this.databaseUrl, max: 1 });
    pool.on('error', () => undefined); // the database is dropped at clean-up
    this.defer('job times reader', () => pool.end());
    return async (jobId) => {
      const { rows } = await pool.query<{ started: number | null; finished: number | null }>(
        `SELECT (extract(epoch FROM started_at) * 1000)::float8 AS started, (extract(epoch FROM finished_at) * 1000)::float8 AS finished
           FROM tableport.jobs WHERE id = $1 AND status = 'succeeded'`,
        [jobId],
      );
      return { startedMs: rows[0]?.started ?? null, finishedMs: rows[0]?.finished ?? null };
    };
  }

  /** Registers a clean-up; they run last-in first-out. */
  defer(name: string, fn: () => Promise<unknown>): void {
    this.cleanups.push({ name, fn });
  }

  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      await this.endChildren();
      for (const c of this.cleanups.reverse()) {
        try {
          await c.fn();
        } catch (err) {
          this.opts.log(`clean-up of the ${c.name} failed: ${(err as Error).message}`);
        }
      }
    })();
    return this.cleaning;
  }

  /** SIGTERM to every child still running (tableport shuts down gracefully on it), SIGKILL after 20 s. */
  private async endChildren(): Promise<void> {
    await Promise.all(
      [...this.children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
            child.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }

  /** Ctrl-C and SIGTERM clean up and exit; a second signal exits at once. */
  cleanUpOnSignals(): void {
    let signalled = false;
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(sig, () => {
        if (signalled) process.exit(130);
        signalled = true;
        this.opts.log(`${sig}: stopping and cleaning up…`);
        void this.cleanup().finally(() => process.exit(130));
      });
    }
  }
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
