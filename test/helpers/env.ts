/** Where the tests find PostgreSQL and Redis; each run makes its own database and key prefix there. */
import { spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';

export const PG_ADMIN_URL =
  process.env.TEST_PG_ADMIN_URL ?? `postgres://${process.env.PGUSER ?? process.env.USER ?? userInfo().username}@127.0.0.1:5432/postgres`;
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';

export function databaseUrlFor(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Where the service's jobs queue in the tests: `redis` (REDIS_URL set) or `postgres` (no Redis at all). */
export const TEST_QUEUE_BACKEND: 'redis' | 'postgres' = process.env.TEST_QUEUE_BACKEND === 'postgres' ? 'postgres' : 'redis';

/** Tests of Redis itself (outages, a Cluster) start their own redis-server: skipped, saying why, where there is none. */
export const NO_REDIS_SERVER: string | false =
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
    ? false
    : 'redis-server is not installed on this machine; the tests of Redis itself (outages, a Cluster) need one';
