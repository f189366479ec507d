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

export interface TransactionOptions {
  /** Always roll back (a dry run, a check): `fn`'s writes are never kept. */
  rollback?: boolean;
  /**
   * Abandons the transaction when aborted: the connection is destroyed at once (the server rolls
   * back and drops the transaction's locks) and the call rejects with the signal's reason, without
   * waiting for `fn`, which is left to fail on its lost connection.
   */
  abandon?: AbortSignal;
}

/**
 * Runs `fn` in a transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws
 * (or always, with `rollback`). A connection that failed on the way (a network error, a server
 * that terminated it, a ROLLBACK that could not be sent) is destroyed rather than handed back to
 * the pool, where the next caller would inherit a broken session. The one way to open a
 * transaction in the service: nothing else sends BEGIN.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let released = false;
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    client.release(err);
  };
  const work = (async () => {
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query(opts.rollback ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (err) {
      if (isConnectionError(err)) broken = err as Error;
      if (!released) await client.query('ROLLBACK').catch((e: Error) => (broken ??= e));
      throw err;
    } finally {
      release(broken);
    }
  })();
  const { abandon } = opts;
  if (!abandon) return work;
  let onAbandon: (() => void) | undefined;
  const abandoned = new Promise<never>((_resolve, reject) => {
    onAbandon = () => {
      release(new Error('transaction abandoned'));
      reject(abandon.reason);
    };
    if (abandon.aborted) onAbandon();
    else abandon.addEventListener('abort', onAbandon, { once: true });
  });
  // Once abandoned, what the work says when it finally settles is of no use to anyone.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, abandoned]);
  } finally {
    if (onAbandon) abandon.removeEventListener('abort', onAbandon);
  }
}
