/**
 * Entry for the roles: `api` (HTTP), `worker` (BullMQ workers), or both in one process. Builds
 * the connections once, runs migrations, and closes everything in order on SIGTERM/SIGINT.
 */
import type { Server } from 'node:http';
import { settlesWithin, systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { describePostgres, describeRedis } from './db/connection-info.js';
import { EmbeddedPostgresError, openEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded/embedded-postgres.js';
import { runMigrations } from './db/migrate.js';
import { listenEarly } from './http/early-listener.js';
import { createPool } from './db/pool.js';
import { JobQueues } from './jobs/queues.js';
import { createQueueBackend } from './queue/index.js';
import type { Logger } from './logger.js';
import { createServices } from './services/index.js';
import { JobMailService } from './services/mail.service.js';
import { downloadLinks } from './http/download-links.js';
import { createLocationContext } from './locations/index.js';
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

export async function start(configured: Config, roles: Role[], logger: Logger, opts: StartOptions = {}): Promise<Running> {
  const clock = opts.clock ?? systemClock;
  // The database first: without DATABASE_URL, PostgreSQL runs here (started now, or found running).
  const embedded = configured.embeddedDatabase
    ? await openEmbeddedPostgres({ dataDir: configured.dataDir, logger, role: 'service' })
    : undefined;
  const config: Config = embedded ? { ...configured, databaseUrl: embedded.url } : configured;
  // The API listens at once: while a configured PostgreSQL cannot be reached, it answers 503 naming it.
  const early = roles.includes('api') ? await listenEarly(config, logger) : undefined;
  try {
    await runMigrations(config.databaseUrl, logger, { waitForDatabase: true });
  } catch (err) {
    await early?.close();
    await embedded?.close();
    throw err;
  }
  // One location context per process (it holds the outbound guard and its allow-list), shared by
  // the service's own storage and every user's destination and source.
  const locations = createLocationContext(config.locations, logger);
  const storage = createStorage(config, locations);
  const links = downloadLinks(config);
  const closers: Array<() => Promise<unknown>> = [];
  const finalClosers: Array<() => Promise<unknown>> = [];

  // Each role loads only its own modules: a worker has no use for express, an API none for nodemailer.
  let workers: import('../workers/main.js').Workers | undefined;
  if (roles.includes('worker')) {
    // A task holds up to three connections: its claim, its COPY, and its progress updates.
    const pool = createPool(config.databaseUrl, { max: 4 + config.workerConcurrency * 3 });
    pool.on('error', (err) => logger.error({ err }, 'idle database connection failed'));
    const queues = new JobQueues(await createQueueBackend(config, 'worker', logger, clock), config);
    const services = createServices({ config, pool, queues, storage, locations, links, logger, clock });
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
    // Users' schedules: a scheduler lost with Redis is made again, a slot missed while down runs once.
    services.schedules.reconcile().catch((err: unknown) => logger.warn({ err }, "could not reconcile the users' schedules"));
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
    const services = createServices({ config, pool, queues, storage, locations, links, logger, clock });
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
    const listening = early;
    if (!listening) throw new Error('the API listens before its app is built');
    listening.use(app);
    server = listening.server;
    url = listening.url;
    // Stop accepting first, so no new job is queued while we shut down.
    closers.unshift(() => listening.close());
    logger.info({ url, publicUrl: config.publicUrl }, 'api listening');
  }
  logger.info({ database: describeDatabase(config, embedded), queue: describeQueue(config) }, startupLine(config, embedded));
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
        // Last: everything above still talked to it.
        await embedded?.close();
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
  let running: Running;
  try {
    running = await start(config, roles, logger);
  } catch (err) {
    // What keeps the service from starting is one line that says what to do, not a stack trace.
    logger.fatal(startFailure(err, config));
    process.exit(1);
  }
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

/** Where the data is, as the start-up line says it. */
function describeDatabase(config: Config, embedded: EmbeddedDatabase | undefined): string {
  return embedded
    ? `embedded PostgreSQL ${embedded.version} on 127.0.0.1:${embedded.port}, data in ${config.dataDir}/postgres`
    : `PostgreSQL at ${describePostgres(config.databaseUrl)}`;
}

function describeQueue(config: Config): string {
  return config.redisUrl ? `Redis at ${describeRedis(config.redisUrl)}` : 'PostgreSQL';
}

/** One line that says which database and which queue run, and how to switch each. */
function startupLine(config: Config, embedded: EmbeddedDatabase | undefined): string {
  const db = embedded
    ? `database: ${describeDatabase(config, embedded)} (set DATABASE_URL to use your own PostgreSQL)`
    : `database: ${describeDatabase(config, embedded)} (DATABASE_URL; unset it for an embedded one)`;
  const queue = config.redisUrl
    ? `jobs queue in ${describeQueue(config)} (REDIS_URL; unset it to queue them in PostgreSQL)`
    : 'jobs queue in PostgreSQL (set REDIS_URL to queue them in Redis)';
  return `${db}; ${queue}`;
}

/** Why the start-up failed, in one sentence. */
function startFailure(err: unknown, config: Config): string {
  if (err instanceof EmbeddedPostgresError) return err.message;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return `Port ${config.port} is taken by another program: stop it, or set PORT to another port.`;
  if (code === 'EACCES') return `Port ${config.port} cannot be opened by this user: set PORT to a port above 1023.`;
  return `The service could not start: ${err instanceof Error ? err.message : String(err)}`;
}
