/**
 * Entry for the roles: `api` (HTTP), `worker` (BullMQ workers), or both in one process. Builds
 * the connections once, runs migrations, and closes everything in order on SIGTERM/SIGINT.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { settlesWithin, systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { runMigrations } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { JobQueues } from './jobs/queues.js';
import { createQueueBackend } from './queue/index.js';
import type { Logger } from './logger.js';
import { createServices } from './services/index.js';
import { JobMailService } from './services/mail.service.js';
import { createStorage } from './storage/index.js';
import { metrics } from './metrics/metrics.js';
import { bullQueueCounts } from './metrics/queue-counts.js';
import { keepPrototypesFast } from './runtime/fast-prototypes.js';
import type { WorkerTuning } from '../workers/main.js';

export type Role = 'api' | 'worker';

export interface Running {
  /** The HTTP server's base URL, when the api role runs. */
  url?: string;
  server?: Server;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Worker knobs for tests that kill a worker and watch another take its job over. */
  tuning?: WorkerTuning;
  /** The time the service decides by (link expiry, the minute, sweeps, deadlines); tests move it. */
  clock?: Clock;
}

export async function start(config: Config, roles: Role[], logger: Logger, opts: StartOptions = {}): Promise<Running> {
  const clock = opts.clock ?? systemClock;
  await runMigrations(config.databaseUrl, logger, { waitForDatabase: true });
  const storage = createStorage(config, logger);
  const closers: Array<() => Promise<unknown>> = [];
  const finalClosers: Array<() => Promise<unknown>> = [];

  // Each role loads only its own modules: a worker has no use for express, an API none for nodemailer.
  let workers: import('../workers/main.js').Workers | undefined;
  if (roles.includes('worker')) {
    // A task holds up to three connections: its claim, its COPY, and its progress updates.
    const pool = createPool(config.databaseUrl, { max: 4 + config.workerConcurrency * 3 });
    pool.on('error', (err) => logger.error({ err }, 'idle database connection failed'));
    const queues = new JobQueues(await createQueueBackend(config, 'worker', logger, clock), config);
    const services = createServices({ config, pool, queues, storage, logger, clock });
    const { startWorkers } = await import('../workers/main.js');
    const { createMailer } = await import('./mail/mailer.js');
    const timeouts = { idleMs: config.locations.outboundTimeoutMs, maxDurationMs: config.locations.outboundMaxDurationMs };
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, outboxDir: config.mailOutboxDir, timeouts }, logger);
    // Where a mail goes when SMTP stays down past its last attempt.
    const outbox = config.smtpUrl ? createMailer({ from: config.mailFrom, outboxDir: config.mailOutboxDir }, logger) : undefined;
    const mail = new JobMailService(config, services.repos.jobs, services.jobs, services.repos.users, mailer, logger, outbox);
    workers = startWorkers({ logger, services, repos: services.repos, queues, storage, mail }, config, opts.tuning);
    const running = workers;
    closers.push(async () => {
      await running.close();
      await mailer.close();
      await outbox?.close();
    });
    finalClosers.push(async () => {
      await queues.close();
      await pool.end();
    });
    // Not awaited: with the backend away at start-up it would hold the API back; it completes once it answers.
    queues
      .scheduleMaintenance(config.cleanupIntervalSeconds)
      .catch((err: unknown) => logger.warn({ err }, 'could not schedule maintenance'));
    logger.info({ concurrency: config.workerConcurrency }, 'workers started');
    // Without the API in this process, the worker's jobs and mails are scraped from a port of its own.
    if (config.metricsPort !== undefined && !roles.includes('api')) {
      const { startMetricsServer } = await import('./metrics/metrics-server.js');
      const metricsServer = await startMetricsServer(metrics(), config.metricsPort, config.metricsToken, logger);
      closers.push(() => new Promise<void>((resolve) => metricsServer.close(() => resolve())));
    }
  }

  let server: Server | undefined;
  let url: string | undefined;
  if (roles.includes('api')) {
    // The API fails fast: its own pool with connect and statement timeouts, a queue backend that
    // refuses rather than waits. A request answers 503 while a dependency is away instead of
    // hanging; workers keep their patient connections above.
    const pool = createPool(config.databaseUrl, {
      max: 10,
      applicationName: 'tableport-api',
      connectionTimeoutMillis: config.dbConnectTimeoutMs,
      statementTimeoutMs: config.dbStatementTimeoutMs,
    });
    pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'idle database connection failed'));
    const backend = await createQueueBackend(config, 'api', logger, clock);
    const queues = new JobQueues(backend, config, true);
    const services = createServices({ config, pool, queues, storage, logger, clock });
    finalClosers.push(async () => {
      await queues.close();
      await pool.end();
    });
    // Give the backend a moment so the first requests do not get 503; past it, serve anyway (/healthz says what is down).
    await settlesWithin(backend.ping(), 5000);
    const { createApp } = await import('./app.js');
    // Queue depth on /metrics is read from BullMQ at each scrape, through the API's fail-fast connection.
    metrics().setQueueSource(bullQueueCounts(queues.queues));
    const app = createApp({
      config,
      logger,
      services,
      queues,
      health: {
        postgres: () => pool.query('SELECT 1'),
        [backend.kind === 'redis' ? 'redis' : 'queue']: () => backend.ping(),
      },
    });
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    const listening = server;
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Stop accepting first, so no new job is queued while we shut down.
    closers.unshift(
      () =>
        new Promise<void>((resolve) => {
          listening.close(() => resolve());
          listening.closeIdleConnections();
        }),
    );
    logger.info({ url, publicUrl: config.publicUrl }, 'api listening');
  }
  // Every module of the roles is loaded by now; some put built-in prototypes in V8's slow mode.
  keepPrototypesFast();

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    close() {
      closing ??= (async () => {
        for (const c of closers) await c();
        for (const c of finalClosers) await c();
        storage.close?.();
      })();
      return closing;
    },
  };
}

/** Runs until SIGTERM/SIGINT, then shuts down gracefully (a second signal forces the exit). */
export async function runUntilSignalled(config: Config, roles: Role[], logger: Logger): Promise<void> {
  // What cannot be handled leaves the process in an unknown state: log it once, exit non-zero,
  // and let the supervisor (systemd, compose `restart: unless-stopped`, pm2) start a clean one.
  const fatal = (kind: string) => (err: unknown) => {
    logger.fatal({ err }, `${kind}; exiting so that the supervisor restarts the process`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
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
