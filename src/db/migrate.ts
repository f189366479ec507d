import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../logger.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Brings the database up to date. Safe to call from several processes starting at once: they
 * queue on node-pg-migrate's advisory lock instead of failing.
 */
export async function runMigrations(databaseUrl: string, logger: Logger): Promise<void> {
  const ran = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'migrations',
    schema: 'tableport',
    createSchema: true,
    migrationsSchema: 'tableport',
    createMigrationsSchema: true,
    advisoryLockMode: 'wait',
    singleTransaction: true,
    log: () => undefined,
  });
  if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'database migrated');
}
