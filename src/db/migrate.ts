import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from '../logger.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Brings the database up to date. Safe to call from several processes starting at once: they
 * queue on node-pg-migrate's advisory lock instead of failing.
 */
export async function runMigrations(databaseUrl: string, logger: Logger): Promise<void> {
  await ensureDatabase(databaseUrl, logger);
  const ran = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'migrations',
    // Hidden files, and the source maps and declarations a `tsc` build puts beside compiled migrations.
    ignorePattern: '(\\..*|.*\\.map|.*\\.d\\.ts)',
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

/**
 * Creates the database named in the URL when it does not exist yet, so a fresh machine needs no
 * set-up step beyond a running PostgreSQL (the user must be allowed to create databases).
 */
async function ensureDatabase(databaseUrl: string, logger: Logger): Promise<void> {
  const probe = new pg.Client({ connectionString: databaseUrl });
  try {
    await probe.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    logger.info({ database: name }, 'database created');
  } catch (err) {
    // Another process starting at the same moment created it first.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await admin.end();
  }
}
