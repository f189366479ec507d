/**
 * Entry for the roles: `api` (HTTP), `worker` (BullMQ workers), or both in one process. Builds
 * the connections once, runs migrations, and closes everything in order on SIGTERM/SIGINT.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { runMigrations } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { JobQueues, createRedis } from './jobs/queues.js';
import type { Logger } from './logger.js';
import { createServices } from './services/index.js';
import { JobMailService } from './services/mail.service.js';
import { createStorage } from './storage/index.js';
import type { WorkerTuning } from '../workers/main.js';

export type Role = 'api' | 'worker';

export interface Running {
  /** The HTTP server's base URL, when the api role runs. */
  url?: string;
  server?: Server;
  close(): Promise<void>;
}

export async function start(config: Config, roles: Role[], logger: Logger, tuning: WorkerTuning = {}): Promise<Running> {
  await runMigrations(config.databaseUrl, logger);
  // A task holds up to three connections: its claim, its COPY, and its progress updates.
  const pool = createPool(config.databaseUrl, { max: roles.includes('worker') ? 4 + config.workerConcurrency * 3 : 10 });
  pool.on('error', (err) => logger.error({ err }, 'idle database connection failed'));
  const redis = createRedis(config.redisUrl, `tableport-${roles.join('+')}`);
  redis.on('error', (err) => logger.error({ err }, 'redis error'));
  const queues = new JobQueues(redis, config, logger);
  const storage = createStorage(config);
  const services = createServices({ config, pool, redis, queues, storage, logger });
  const closers: Array<() => Promise<unknown>> = [];

  // Each role loads only its own modules: a worker has no use for express, an API none for nodemailer.
  let workers: import('../workers/main.js').Workers | undefined;
  if (roles.includes('worker')) {
    const { startWorkers } = await import('../workers/main.js');
    const { createMailer } = await import('./mail/mailer.js');
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, outboxDir: config.mailOutboxDir }, logger);
    // Where a mail goes when SMTP stays down past its last attempt.
    const outbox = config.smtpUrl ? createMailer({ from: config.mailFrom, outboxDir: config.mailOutboxDir }, logger) : undefined;
    const mail = new JobMailService(config, services.repos.jobs, services.jobs, services.repos.users, mailer, logger, outbox);
    // Workers block on Redis, so they get a connection of their own.
    const workerRedis = createRedis(config.redisUrl, 'tableport-worker');
    workerRedis.on('error', (err) => logger.error({ err }, 'redis error (worker)'));
    workers = startWorkers({ logger, services, repos: services.repos, queues, storage, mail }, workerRedis, config, tuning);
    closers.push(async () => {
      await workers!.close();
      await mailer.close();
      await outbox?.close();
      workerRedis.disconnect();
    });
    await queues.scheduleMaintenance(config.cleanupIntervalSeconds);
    logger.info({ concurrency: config.workerConcurrency }, 'workers started');
  }

  let server: Server | undefined;
  let url: string | undefined;
  if (roles.includes('api')) {
    const { createApp } = await import('./app.js');
    const app = createApp({
      config,
      logger,
      services,
      ready: async () => {
        await pool.query('SELECT 1');
        await redis.ping();
      },
    });
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Stop accepting first, so no new job is queued while we shut down.
    closers.unshift(
      () =>
        new Promise<void>((resolve) => {
          server!.close(() => resolve());
          server!.closeIdleConnections();
        }),
    );
    logger.info({ url, publicUrl: config.publicUrl }, 'api listening');
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    close() {
      closing ??= (async () => {
        for (const c of closers) await c();
        await queues.close();
        redis.disconnect();
        await pool.end();
        storage.close?.();
      })();
      return closing;
    },
  };
}

/** Runs until SIGTERM/SIGINT, then shuts down gracefully (a second signal forces the exit). */
export async function runUntilSignalled(config: Config, roles: Role[], logger: Logger): Promise<void> {
  const running = await start(config, roles, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'forced exit');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // The workers abort their jobs at SHUTDOWN_TIMEOUT_MS; if anything still hangs after that, exit anyway.
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 10_000).unref();
    running.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
