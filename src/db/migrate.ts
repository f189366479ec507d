import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from '../logger.js';
import { describePostgres, isConnectError } from './connection-info.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Brings the database up to date. Safe to call from several processes starting at once: they
 * queue on node-pg-migrate's advisory lock instead of failing.
 */
export async function runMigrations(databaseUrl: string, logger: Logger, opts: { waitForDatabase?: boolean } = {}): Promise<void> {
  if (opts.waitForDatabase) await waitForPostgres(databaseUrl, logger);
  else await ensureDatabase(databaseUrl, logger);
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
 * Start-up under a supervisor: PostgreSQL may come up after us. Says once which address cannot be
 * reached (no credentials), then retries quietly with a growing delay (0.5 s doubling to 10 s).
 */
async function waitForPostgres(databaseUrl: string, logger: Logger): Promise<void> {
  let delay = 500;
  let attempts = 0;
  for (;;) {
    try {
      await ensureDatabase(databaseUrl, logger);
      if (attempts > 0) logger.info({ attempts }, `reached PostgreSQL at ${describePostgres(databaseUrl)}`);
      return;
    } catch (err) {
      if (!isConnectError(err)) throw err;
      attempts++;
      if (attempts === 1) {
        const code = (err as { code?: string }).code ?? (err instanceof AggregateError ? 'ECONNREFUSED' : undefined);
        logger.error(
          { code },
          `cannot reach PostgreSQL at ${describePostgres(databaseUrl)} (DATABASE_URL); retrying with backoff, and the API answers 503 until then`,
        );
      } else logger.debug({ attempts, delay }, 'PostgreSQL still unreachable');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/**
 * Creates the database named in the URL when it does not exist yet, so a fresh machine needs no
 * set-up step beyond a running PostgreSQL (the user must be allowed to create databases).
 */
async function ensureDatabase(databaseUrl: string, logger: Logger): Promise<void> {
  const probe = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  // A connection lost after connect must not become an unhandled 'error' event.
  probe.on('error', () => undefined);
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
  const admin = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    logger.info({ database: name }, 'database created');
  } catch (err) {
    // Another process starting at the same moment created it first: 42P04 when its commit came
    // before our check, 23505 (pg_database's unique index) when both passed the check at once.
    const code = (err as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw err;
  } finally {
    await admin.end();
  }
}
