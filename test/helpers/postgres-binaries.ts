import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { binariesDir } from '../../src/db/embedded/embedded-postgres.js';

/**
 * Where `initdb`, `pg_ctl` and `postgres` are, for tests that run PostgreSQL servers of their own
 * (to stop and restart them): the newest one Debian installed, else the embedded one tableport
 * ships, so these tests run on a machine with nothing but Node too.
 */
export function postgresBinaries(): string {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))[0]
    : undefined;
  return version ? join(root, version, 'bin') : binariesDir();
}
