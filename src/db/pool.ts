import pg from 'pg';

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
  return new pg.Pool({
    connectionString: databaseUrl,
    max: opts.max ?? 10,
    types,
    application_name: opts.applicationName ?? 'tableport',
    ...(opts.connectionTimeoutMillis ? { connectionTimeoutMillis: opts.connectionTimeoutMillis } : {}),
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  });
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
