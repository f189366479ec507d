/**
 * Redis and PostgreSQL servers of the fault suite's own, on ports of its own, so a test may stop,
 * kill and restart them without touching the shared 6379 and 5432. Each is removed with its files
 * by `close()`, which a test calls in `after()` whatever happened.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { postgresBinaries } from '../../helpers/postgres-binaries.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds; `exited` says the server process is gone, and then nothing will. */
async function until(what: string, check: () => Promise<boolean>, exited?: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (exited?.()) throw new Error(`${what}: the server exited (is the port taken by another run?)`);
    if (Date.now() > end) throw new Error(`${what}: timed out`);
    await sleep(100);
  }
}

export interface OwnRedis {
  url: string;
  /** Kills the server (SIGKILL): without persistence every key is gone. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** kill() then start(): a Redis restart that lost everything. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** `redis-server --port N --save "" --appendonly no`: nothing survives a restart, as in fault D. */
export async function startOwnRedis(port: number): Promise<OwnRedis> {
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  // Ours, not merely a Redis: when the port is taken (another run of the suite), our child exits
  // with an error while another process's Redis would answer a PING, and the tests would kill,
  // restart and read a server that is not theirs.
  const ping = async () => {
    const pid = child?.pid;
    if (pid === undefined) return false;
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return new RegExp(`^process_id:${pid}\\r?$`, 'm').test(await r.info('server'));
    } finally {
      r.disconnect();
    }
  };
  const start = async () => {
    const c = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      {
        stdio: 'ignore',
      },
    );
    child = c;
    await until(`redis on ${port}`, ping, () => c.exitCode !== null);
  };
  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const c = child;
    c.kill('SIGKILL');
    await once(c, 'exit');
  };
  await start();
  return {
    url,
    start,
    kill,
    restart: async () => {
      await kill();
      await start();
    },
    close: kill,
  };
}

export interface OwnPostgres {
  /** A superuser URL on the cluster's `postgres` database. */
  adminUrl: string;
  /** The URL of database `name` on this cluster. */
  urlFor(name: string): string;
  /** `pg_ctl stop -m fast`: every connection is cut, as when the server goes down. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const PG_BIN = postgresBinaries();

function asPostgres(args: string[]): void {
  // initdb and the server refuse to run as root.
  const r = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args[0]} failed: ${r.stderr || r.stdout}`);
}

/** A throw-away cluster (trust auth, user root, fsync off) in a temp dir owned by `postgres`. */
export async function startOwnPostgres(port: number): Promise<OwnPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'tableport-faults-pg-'));
  const data = join(dir, 'data');
  const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
  chownSync(dir, uid, gid);
  asPostgres([`${PG_BIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'root', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const adminUrl = `postgres://root@127.0.0.1:${port}/postgres`;
  const ready = async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  const start = async () => {
    asPostgres([`${PG_BIN}/pg_ctl`, '-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
    await until(`postgres on ${port}`, ready);
  };
  const stop = async () => {
    asPostgres([`${PG_BIN}/pg_ctl`, '-D', data, '-m', 'fast', '-w', 'stop']);
  };
  await start();
  return {
    adminUrl,
    urlFor: (name) => `postgres://root@127.0.0.1:${port}/${name}`,
    start,
    stop,
    async close() {
      spawnSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
