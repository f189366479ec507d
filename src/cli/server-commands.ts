/** The operator's commands: they talk to PostgreSQL and Redis directly, not to the HTTP API. */
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { describePostgres, isConnectError } from '../db/connection-info.js';
import { EmbeddedPostgresError, openEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded/embedded-postgres.js';
import { runMigrations } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { UsersRepository } from '../db/repositories/users.repository.js';
import { createLogger } from '../logger.js';
import { runUntilSignalled, type Role } from '../main.js';
import { ServerUnreachableError } from './client.js';
import { UsersService } from '../services/users.service.js';

function serve(roles: Role[]) {
  return async () => {
    const config = loadConfig();
    await runUntilSignalled(config, roles, createLogger(config.logLevel, { role: roles.join('+') }));
  };
}

export function registerServerCommands(program: Command): void {
  program
    .command('all')
    .description('run the HTTP API and every worker in one process (what `npm start` runs)')
    .addHelpText('after', '\nExample:\n  PORT=3000 DATABASE_URL=postgres://localhost/tableport tableport all')
    .action(serve(['api', 'worker']));
  program
    .command('api')
    .description('run only the HTTP API (scale out: run several behind a load balancer)')
    .addHelpText('after', '\nExample:\n  PORT=3000 tableport api')
    .action(serve(['api']));
  program
    .command('worker')
    .description('run only the job workers (scale out: run as many as you need)')
    .addHelpText('after', '\nExample:\n  WORKER_CONCURRENCY=4 tableport worker')
    .action(serve(['worker']));

  const users = program.command('users').description('manage users and their API tokens (server side)');
  users
    .command('add')
    .description('create a user (or find it by email) and print a new API token; the token alone is the last line')
    .requiredOption('--email <email>', "the user's email: where job results are sent")
    .option('--name <name>', "the user's name, used in emails")
    .option('--locale <locale>', 'language of the emails: en or zh-CN')
    .addHelpText('after', '\nExample:\n  TOKEN=$(npx tableport users add --email ada@example.com --name Ada | tail -n 1)')
    .action(async (opts: { email: string; name?: string; locale?: string }) => {
      await withDatabase(async (pool) => {
        const { user, token } = await new UsersService(new UsersRepository(pool)).addUserWithToken(opts);
        process.stdout.write(`user ${user.id} <${user.email}>${user.name ? ` (${user.name})` : ''}, locale ${user.locale}\n`);
        process.stdout.write(`${token}\n`);
      });
    });
}

/**
 * Runs `work` on the service's database: the one DATABASE_URL names, or the embedded one (the
 * running service's, or one started for this command and stopped after it).
 */
async function withDatabase(work: (pool: Pool) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  let embedded: EmbeddedDatabase | undefined;
  try {
    embedded = config.embeddedDatabase ? await openEmbeddedPostgres({ dataDir: config.dataDir, logger, role: 'command' }) : undefined;
  } catch (err) {
    if (err instanceof EmbeddedPostgresError) throw new ServerUnreachableError(err.message);
    throw err;
  }
  const url = embedded?.url ?? config.databaseUrl;
  try {
    try {
      await runMigrations(url, logger);
    } catch (err) {
      if (!isConnectError(err)) throw err;
      throw new ServerUnreachableError(
        `Cannot reach PostgreSQL at ${describePostgres(url)} (set by DATABASE_URL): start it, correct DATABASE_URL, ` +
          'or unset DATABASE_URL to use the embedded PostgreSQL.',
      );
    }
    const pool = createPool(url, { max: 1 });
    try {
      await work(pool);
    } finally {
      await pool.end();
    }
  } finally {
    await embedded?.close();
  }
}
