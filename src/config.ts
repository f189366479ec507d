/**
 * The only reader of `process.env`. The environment is parsed once, and a bad value stops the
 * start-up with every bad key listed, rather than failing later in a job.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

const EnvSchema = z.object({
  PORT: port.default(3000),
  PUBLIC_URL: z.url().optional(),
  // Unset: an embedded PostgreSQL, its data under $DATA_DIR/postgres (src/db/embedded/).
  DATABASE_URL: z.string().min(1).optional(),
  // Unset: jobs queue in PostgreSQL (BullMQ's PostgreSQL backend), in the service's own database.
  REDIS_URL: z.string().min(1).optional(),
  // A Redis Cluster: its seed nodes as "host:port,host:port"; REDIS_URL then only gives the credentials.
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, 'must be "host:port" pairs separated by commas')
    .optional(),
  SMTP_URL: z.string().min(1).optional(),
  MAIL_FROM: z.string().min(1).default('tableport <no-reply@localhost>'),
  MAIL_OUTBOX_DIR: z.string().min(1).default('./data/outbox'),
  STORAGE_DIR: z.string().min(1).default('./data/files'),
  // The service's own files in an object store instead of STORAGE_DIR; see src/locations/s3.driver.ts (ownStorage).
  STORAGE_URL: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be s3://bucket or s3://bucket/prefix')
    .refine((u) => !/(^|\/)\.{1,2}(\/|$)|\/\/|\\/.test(u.slice(5)), 'the prefix must not hold "//", "." or ".." segments')
    .optional(),
  STORAGE_S3_ENDPOINT: z.url().optional(),
  STORAGE_S3_REGION: z.string().min(1).default('us-east-1'),
  STORAGE_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  STORAGE_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  SIGNING_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  EXPORT_MAX_ROWS: positiveInt.default(1_000_000),
  BUNDLE_MAX_TABLES: positiveInt.default(1000),
  UPLOAD_MAX_BYTES: positiveInt.default(1024 * 1024 * 1024),
  DOWNLOAD_LINK_TTL_SECONDS: positiveInt.default(7 * 24 * 3600),
  TASK_INTERVAL_SECONDS: positiveInt.default(60),
  CLEANUP_INTERVAL_SECONDS: positiveInt.default(3600),
  QUEUE_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9_.-]+|\{[A-Za-z0-9_.-]+\})$/, 'letters, digits, "_", "." and "-" only, optionally in one pair of braces')
    .default('tableport'),
  WORKER_CONCURRENCY: positiveInt.default(2),
  MAIL_ATTEMPTS: positiveInt.default(10),
  MAIL_BACKOFF_MS: positiveInt.default(5000),
  WEBHOOK_ATTEMPTS: positiveInt.default(8),
  WEBHOOK_BACKOFF_MS: positiveInt.default(10_000),
  JOB_ATTEMPTS: positiveInt.default(3),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(30_000),
  JOB_TIMEOUT_SECONDS: positiveInt.default(3600),
  JOB_STALE_SECONDS: positiveInt.default(30),
  JOB_ABORT_GRACE_MS: positiveInt.default(5000),
  USER_MAX_RUNNING_JOBS: positiveInt.optional(),
  RECORDS_PAGE_MAX_BYTES: positiveInt.default(4 * 1024 * 1024),
  JOB_SWEEP_INTERVAL_SECONDS: positiveInt.default(60),
  JOB_SWEEP_GRACE_SECONDS: positiveInt.default(60),
  INCOMING_MAX_AGE_SECONDS: positiveInt.default(3600),
  UNDO_RETENTION_SECONDS: positiveInt.default(604_800),
  NODE_ENV: z.string().optional(),
  BODY_MAX_BYTES: positiveInt.default(8 * 1024 * 1024),
  MAX_CELL_BYTES: positiveInt.default(4 * 1024 * 1024),
  MAX_JSON_DEPTH: positiveInt.default(64),
  HEAVY_REQUEST_CONCURRENCY: positiveInt.default(2),
  DB_CONNECT_TIMEOUT_MS: positiveInt.default(2000),
  DB_STATEMENT_TIMEOUT_MS: positiveInt.default(30_000),
  DB_LOCK_TIMEOUT_MS: positiveInt.default(2000),
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.default(2000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Locations (object stores, URLs, local folders); see src/locations/.
  EXPORT_DIR: z.string().min(1).optional(),
  IMPORT_DIR: z.string().min(1).optional(),
  OUTBOUND_ALLOW_HOSTS: z.string().optional(),
  OUTBOUND_TIMEOUT_MS: positiveInt.default(30_000),
  OUTBOUND_MAX_DURATION_MS: positiveInt.default(3_600_000),
  CREDENTIALS_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  AWS_SESSION_TOKEN: z.string().optional(),
  AWS_REGION: z.string().optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().optional(),
  AZURE_STORAGE_ACCOUNT: z.string().optional(),
  AZURE_STORAGE_KEY: z.string().optional(),
  // Operator's instruments: /metrics, /admin/queues, and a worker's own metrics port.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_PORT: port.optional(),
});

export interface Config {
  port: number;
  publicUrl: string;
  /** PostgreSQL's URL; with `embeddedDatabase`, filled in by the start-up once the embedded server runs. */
  databaseUrl: string;
  /** DATABASE_URL is unset: the service runs PostgreSQL itself (src/db/embedded/). */
  embeddedDatabase: boolean;
  /** Redis for BullMQ and the minute; undefined: jobs queue in PostgreSQL. */
  redisUrl: string | undefined;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES); undefined for one Redis at REDIS_URL. */
  redisClusterNodes?: Array<{ host: string; port: number }>;
  smtpUrl: string | undefined;
  mailFrom: string;
  mailOutboxDir: string;
  storageDir: string;
  /** Set by STORAGE_URL: the service's own files live in this bucket; STORAGE_DIR then only receives uploads. */
  storageS3: StorageS3Config | undefined;
  dataDir: string;
  signingSecret: string;
  exportMaxRows: number;
  uploadMaxBytes: number;
  downloadLinkTtlSeconds: number;
  /** Minimum seconds between two tasks of one kind on one table (the contract says 60). */
  taskIntervalSeconds: number;
  /** How often expired export files are removed. */
  cleanupIntervalSeconds: number;
  /** Prefix of every Redis key: BullMQ's queues and the rate limits. */
  queuePrefix: string;
  workerConcurrency: number;
  mailAttempts: number;
  mailBackoffMs: number;
  /** Deliveries of one webhook event: attempts in all, and the first wait of the exponential backoff. */
  webhookAttempts: number;
  webhookBackoffMs: number;
  jobAttempts: number;
  shutdownTimeoutMs: number;
  /** The longest one attempt of a job may run before it is stopped and failed (`job_timeout`). */
  jobTimeoutSeconds: number;
  /**
   * A running attempt writes a heartbeat; one whose heartbeat is older than this has stopped living
   * (a paused or hung process) and is fenced off when another attempt needs its job.
   */
  jobStaleSeconds: number;
  /** After a cancel, a shutdown or a timeout, how long a job's work has to stop before its slot is taken back regardless. */
  jobAbortGraceMs: number;
  /** Jobs of one user running at once across every worker; the others wait, so one user cannot fill every slot. */
  userMaxRunningJobs: number;
  /** A records page stops once its rows' JSON passes this many bytes. */
  recordsPageMaxBytes: number;
  /** How often the sweep reconciles job rows with the queue and removes orphaned files. */
  jobSweepIntervalSeconds: number;
  /** An unfinished job the sweep may act on has not changed for this long (a request between insert and queue is not lost). */
  jobSweepGraceSeconds: number;
  /** An upload in `STORAGE_DIR/.incoming` untouched for this long belongs to no request any more. */
  incomingMaxAgeSeconds: number;
  /** How long a succeeded import can be undone: its undo information is pruned by the sweep after this (default 7 days). */
  undoRetentionSeconds: number;
  /** `GET /metrics` needs `Authorization: Bearer` this when set; open when unset. */
  metricsToken: string | undefined;
  /** `/admin/queues` (bull-board) exists only when this is set, and needs it. */
  adminToken: string | undefined;
  /** A `tableport worker` without the API serves `/metrics` on this port when set. */
  metricsPort: number | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `NODE_ENV=production`: refuses a weak or sample `SIGNING_SECRET`. */
  production: boolean;
  /** Largest JSON or form body, counted after decompression. */
  bodyMaxBytes: number;
  /** Largest single cell (a string, or an array/object cell's JSON text), in bytes, for the API and imports. */
  maxCellBytes: number;
  /** Deepest nesting of a JSON body, and of a JSON value in an import. */
  maxJsonDepth: number;
  /** Large requests (big bodies, big record pages) handled at once; more get 503. */
  heavyRequestConcurrency: number;
  dbConnectTimeoutMs: number;
  /** `statement_timeout` of the API's queries (workers have none: an export's COPY takes as long as it takes). */
  dbStatementTimeoutMs: number;
  /** How long a table deletion waits for a running import or export's lock before answering 409. */
  dbLockTimeoutMs: number;
  /** How long the API waits for one Redis command before answering 503. */
  redisCommandTimeoutMs: number;
  locations: LocationsConfig;
  /** Tables a bundle may hold; a bundle with more is refused before they are read. */
  bundleMaxTables: number;
}

/** The bucket of STORAGE_URL and how to reach it. */
export interface StorageS3Config {
  bucket: string;
  /** '' or a key prefix ending in '/'. */
  prefix: string;
  /** An S3-compatible store (MinIO); unset: AWS itself. */
  endpoint: string | undefined;
  region: string;
  /** Unset: the SDK's own credential chain (environment, profile, instance role). */
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
}

/** What the location layer (object stores, URLs, local folders) takes from the environment. */
export interface LocationsConfig {
  /** `file://` destinations must lie under this folder; unset refuses them. */
  exportDir: string | undefined;
  /** `file://` sources must lie under this folder; unset refuses them. */
  importDir: string | undefined;
  /** Hosts (`name` or `name:port`) that outbound requests may reach even at private addresses. */
  outboundAllowHosts: string[];
  /** Longest wait for a connection, the response headers, or the next bytes. */
  outboundTimeoutMs: number;
  /** Longest a whole outbound download may take. */
  outboundMaxDurationMs: number;
  /** Largest file an import may fetch from a URL (the upload cap). */
  outboundMaxBytes: number;
  /** Key material for credentials at rest: CREDENTIALS_KEY, else the signing secret. */
  credentialsKey: string;
  /** Server-wide defaults, so users need not send keys. */
  aws: { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string; region?: string };
  gcs: { credentialsFile?: string };
  azure: { account?: string; accessKey?: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset", as most shells and compose files intend.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if ((e.STORAGE_S3_ACCESS_KEY_ID === undefined) !== (e.STORAGE_S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError('Invalid configuration:\n  STORAGE_S3_ACCESS_KEY_ID, STORAGE_S3_SECRET_ACCESS_KEY: give both or neither');
  }
  const dataDir = resolve(e.DATA_DIR);
  const signingSecret = e.SIGNING_SECRET ?? loadOrCreateSecret(resolve(dataDir, 'signing-secret'));
  const production = e.NODE_ENV === 'production';
  if (production && e.SIGNING_SECRET !== undefined && weakSecret(e.SIGNING_SECRET)) {
    throw new ConfigError(
      'Invalid configuration:\n  SIGNING_SECRET: is a sample value or too weak for production (NODE_ENV=production); ' +
        'set it to a long random string, e.g. the output of `openssl rand -base64 32`',
    );
  }
  return {
    port: e.PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    databaseUrl: e.DATABASE_URL === undefined ? '' : withDefaultUser(e.DATABASE_URL, env),
    embeddedDatabase: e.DATABASE_URL === undefined,
    redisUrl: e.REDIS_URL,
    ...(e.REDIS_CLUSTER_NODES ? { redisClusterNodes: clusterNodes(e.REDIS_CLUSTER_NODES) } : {}),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    mailOutboxDir: resolve(e.MAIL_OUTBOX_DIR),
    storageDir: resolve(e.STORAGE_DIR),
    storageS3: e.STORAGE_URL === undefined ? undefined : storageS3Config(e.STORAGE_URL, e),
    dataDir,
    signingSecret,
    exportMaxRows: e.EXPORT_MAX_ROWS,
    uploadMaxBytes: e.UPLOAD_MAX_BYTES,
    downloadLinkTtlSeconds: e.DOWNLOAD_LINK_TTL_SECONDS,
    taskIntervalSeconds: e.TASK_INTERVAL_SECONDS,
    cleanupIntervalSeconds: e.CLEANUP_INTERVAL_SECONDS,
    queuePrefix: e.REDIS_CLUSTER_NODES ? hashTagged(e.QUEUE_PREFIX) : e.QUEUE_PREFIX,
    workerConcurrency: e.WORKER_CONCURRENCY,
    mailAttempts: e.MAIL_ATTEMPTS,
    mailBackoffMs: e.MAIL_BACKOFF_MS,
    webhookAttempts: e.WEBHOOK_ATTEMPTS,
    webhookBackoffMs: e.WEBHOOK_BACKOFF_MS,
    jobAttempts: e.JOB_ATTEMPTS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    jobTimeoutSeconds: e.JOB_TIMEOUT_SECONDS,
    jobStaleSeconds: e.JOB_STALE_SECONDS,
    jobAbortGraceMs: e.JOB_ABORT_GRACE_MS,
    // Half of one worker's slots by default: another user's job always finds one free.
    userMaxRunningJobs: e.USER_MAX_RUNNING_JOBS ?? Math.max(1, Math.floor(e.WORKER_CONCURRENCY / 2)),
    recordsPageMaxBytes: e.RECORDS_PAGE_MAX_BYTES,
    jobSweepIntervalSeconds: e.JOB_SWEEP_INTERVAL_SECONDS,
    jobSweepGraceSeconds: e.JOB_SWEEP_GRACE_SECONDS,
    incomingMaxAgeSeconds: e.INCOMING_MAX_AGE_SECONDS,
    undoRetentionSeconds: e.UNDO_RETENTION_SECONDS,
    metricsToken: e.METRICS_TOKEN,
    adminToken: e.ADMIN_TOKEN,
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    locations: {
      exportDir: e.EXPORT_DIR === undefined ? undefined : resolve(e.EXPORT_DIR),
      importDir: e.IMPORT_DIR === undefined ? undefined : resolve(e.IMPORT_DIR),
      outboundAllowHosts: (e.OUTBOUND_ALLOW_HOSTS ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
      outboundTimeoutMs: e.OUTBOUND_TIMEOUT_MS,
      outboundMaxDurationMs: e.OUTBOUND_MAX_DURATION_MS,
      outboundMaxBytes: e.UPLOAD_MAX_BYTES,
      credentialsKey: e.CREDENTIALS_KEY ?? signingSecret,
      aws: {
        accessKeyId: e.AWS_ACCESS_KEY_ID,
        secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
        sessionToken: e.AWS_SESSION_TOKEN,
        region: e.AWS_REGION,
      },
      gcs: { credentialsFile: e.GOOGLE_APPLICATION_CREDENTIALS },
      azure: { account: e.AZURE_STORAGE_ACCOUNT, accessKey: e.AZURE_STORAGE_KEY },
    },
    production,
    bodyMaxBytes: e.BODY_MAX_BYTES,
    maxCellBytes: e.MAX_CELL_BYTES,
    maxJsonDepth: e.MAX_JSON_DEPTH,
    heavyRequestConcurrency: e.HEAVY_REQUEST_CONCURRENCY,
    dbConnectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    dbLockTimeoutMs: e.DB_LOCK_TIMEOUT_MS,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    bundleMaxTables: e.BUNDLE_MAX_TABLES,
  };
}

/** Sample secrets from our own compose file and docs, and anything short or of one repeated character. */
const SAMPLE_SECRETS = new Set(['change-me-to-a-long-random-string', 'change-me', 'changeme', 'secret', 'tableport']);

function weakSecret(secret: string): boolean {
  return SAMPLE_SECRETS.has(secret.toLowerCase()) || /change-?me/i.test(secret) || secret.length < 32 || new Set(secret).size < 8;
}

function storageS3Config(url: string, e: z.infer<typeof EnvSchema>): StorageS3Config {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  return {
    bucket,
    prefix: path ? `${path}/` : '',
    endpoint: e.STORAGE_S3_ENDPOINT,
    region: e.STORAGE_S3_REGION,
    accessKeyId: e.STORAGE_S3_ACCESS_KEY_ID,
    secretAccessKey: e.STORAGE_S3_SECRET_ACCESS_KEY,
  };
}

/**
 * libpq takes the OS user when a URL names none; node-postgres only looks at $PGUSER and $USER,
 * which service managers and CI often leave unset. Fill in the same default libpq would use.
 */
function withDefaultUser(url: string, env: NodeJS.ProcessEnv): string {
  if (env.PGUSER || env.USER) return url;
  try {
    const u = new URL(url);
    if (u.username || !/^postgres(ql)?:$/.test(u.protocol)) return url;
    u.username = userInfo().username;
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * A signing key that survives restarts without being configured: generated on first start and
 * kept in a file only the owner can read. Several processes must share it, so the file is created
 * exclusively and a loser of the race reads the winner's key.
 */
function loadOrCreateSecret(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(path, 'utf8').trim();
}

function clusterNodes(list: string): Array<{ host: string; port: number }> {
  return list.split(',').map((pair) => {
    const [host = '', port = ''] = pair.trim().split(':');
    return { host, port: Number(port) };
  });
}

/**
 * On a Redis Cluster every key of a queue must hash to one slot (BullMQ's scripts touch several at
 * once): the prefix becomes a hash tag, `{tableport}`, unless it is written as one already. The
 * rate limiter's keys share the prefix, so they land on the same slot too.
 */
export function hashTagged(prefix: string): string {
  return prefix.startsWith('{') ? prefix : `{${prefix}}`;
}
