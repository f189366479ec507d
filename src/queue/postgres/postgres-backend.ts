/**
 * The PostgreSQL queue backend: BullMQ's own PostgreSQL backend in the service's database (schema
 * `bullmq`, migrated on start), the minute as one statement on an unlogged table, cancels by
 * LISTEN/NOTIFY. A deployment with only PostgreSQL is a supported production shape, like pg-boss or
 * graphile-worker; Redis is for more throughput of small jobs and for scaling out wide.
 */
import { createPostgresBackend, runMigrations, withBackend, type JobsOptions, type Queue } from 'bullmq';
import pg from 'pg';
import { settlesWithin, type Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import { describePostgres } from '../../db/connection-info.js';
import { isConnectionError } from '../../db/pool.js';
import { QueueName } from '../../jobs/job-names.js';
import type { Logger } from '../../logger.js';
import type { BackendRole, Processor, QueueBackend, QueueHandle, WorkerHandle, WorkerSettings } from '../queue-backend.js';
import { postgresCancels } from './postgres-cancels.js';
import { PostgresMinutes } from './postgres-minutes.js';

/** Where BullMQ keeps its tables in the service's database. */
export const QUEUE_SCHEMA = 'bullmq';

const PgQueues = withBackend(createPostgresBackend);

/**
 * Every queue and worker of a process shares one pool (BullMQ's default is a pool of ten per queue
 * and per worker, which with five queues would take most of PostgreSQL's 100 connections). Each
 * worker keeps one of its connections for LISTEN, so a worker process's pool has room for that.
 * Queue bookkeeping commits without waiting for the disk (synchronous_commit=off): at worst an OS
 * crash loses the last moment of it, which the job sweep reconciles from the job rows, the record
 * that stays durable.
 */
export async function postgresBackend(config: Config, role: BackendRole, logger: Logger, clock: Clock): Promise<QueueBackend> {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: role === 'worker' ? Object.keys(QueueName).length + 6 : 4,
    connectionTimeoutMillis: role === 'api' ? config.dbConnectTimeoutMs : 10_000,
    application_name: `tableport-queue-${role}`,
    options: `-c search_path=${QUEUE_SCHEMA} -c synchronous_commit=off`,
    keepAlive: true,
  });
  // One 'error' listener per queue and worker: more than Node's default warning threshold.
  pool.setMaxListeners(50);
  pool.on('error', () => undefined);
  const client = await pool.connect();
  try {
    await runMigrations(client, QUEUE_SCHEMA);
  } finally {
    client.release();
  }
  const cancels = postgresCancels(pool, config.databaseUrl, logger);
  const queues: Array<InstanceType<typeof PgQueues.Queue>> = [];
  const workers: Array<InstanceType<typeof PgQueues.Worker>> = [];
  let reachable = true;
  const onError = (fields: Record<string, unknown>, msg: string) => (err: Error) => {
    if (isConnectionError(err)) {
      if (reachable) logger.error({ ...fields, code: (err as { code?: string }).code ?? err.message }, `${msg}: cannot reach PostgreSQL`);
      reachable = false;
    } else logger.error({ ...fields, err }, msg);
  };

  return {
    kind: 'postgres',
    address: `${describePostgres(config.databaseUrl)} (schema ${QUEUE_SCHEMA})`,
    queue(name: QueueName, defaultJobOptions: JobsOptions): QueueHandle {
      const q = new PgQueues.Queue(name, { connection: pool, defaultJobOptions });
      q.on('error', onError({ queue: name }, 'queue error'));
      queues.push(q);
      return q;
    },
    worker(name: QueueName, processor: Processor, s: WorkerSettings): WorkerHandle {
      const { onFailed, ...settings } = s;
      // A worker whose database went away tries again after a second, not BullMQ's default 15 s.
      const w = new PgQueues.Worker(name, processor, { connection: pool, runRetryDelay: 1000, ...settings });
      w.on('error', onError({ queue: name }, 'worker error'));
      if (onFailed) w.on('failed', onFailed);
      workers.push(w);
      return w;
    },
    minutes: new PostgresMinutes(pool, config.taskIntervalSeconds, clock),
    cancels,
    ready: () => true,
    async ping() {
      await pool.query('SELECT 1');
      reachable = true;
    },
    // Schedulers live in the database with everything else: nothing to re-create after an outage.
    onReconnect: () => () => undefined,
    // bull-board takes BullMQ's Queue class; it reads a PostgreSQL queue at run time (its Workers panel stays empty).
    dashboardQueues: () => queues as unknown as Queue[],
    async close() {
      await cancels.close();
      await settlesWithin(Promise.all(workers.map((w) => w.close())), 5000);
      await settlesWithin(Promise.all(queues.map((q) => q.close())), 2000);
      await settlesWithin(pool.end(), 2000);
    },
  };
}
