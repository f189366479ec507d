import pg from 'pg';
import { isNetworkErrorCode } from '../net/network-errors.js';

// bigint columns (row counts, Unix seconds, ids) come back as numbers. tableport keeps every
// integer it stores within Number.MAX_SAFE_INTEGER (imports and the records API refuse bigger
// ones), so nothing is lost; the parser is per pool, not a global override.
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /** Fail a connection (or a wait for a pooled one) after this long instead of hanging. */
  connectionTimeoutMillis?: number;
  /** PostgreSQL's `statement_timeout` for every query of the pool. */
  statementTimeoutMs?: number;
}

export function createPool(databaseUrl: string, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: opts.max ?? 10,
    types,
    application_name: opts.applicationName ?? 'tableport',
    ...(opts.connectionTimeoutMillis ? { connectionTimeoutMillis: opts.connectionTimeoutMillis } : {}),
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  });
  // The pool listens for errors only on idle clients. A checked-out client (a COPY, a transaction)
  // whose server goes away emits 'error' too, and with no listener that event kills the process.
  // The query or stream using the client already fails with the same error, so this only has to be there.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // Same for idle clients until the owner adds a listener that logs.
  pool.on('error', () => undefined);
  return pool;
}

/** A lost or refused database connection: worth waiting for, not a fault of the job. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  // 08xxx connection exceptions, 57P01-03 admin/crash shutdown and "cannot connect now".
  if (/^08/.test(code) || /^57P0[1-3]$/.test(code)) return true;
  if (isNetworkErrorCode(code)) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|Client has encountered a connection error|the database system is (starting up|shutting down)|terminating connection/i.test(
    msg,
  );
}

/** Runs `fn` in a transaction on one connection, rolling back if it throws. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
