/**
 * Dependency addresses as logs and errors may show them: host, port and database, never the
 * user name or password that a URL may carry.
 */
import { isNetworkErrorCode } from '../net/network-errors.js';

export function describePostgres(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    const db = decodeURIComponent(u.pathname.slice(1)) || '(default)';
    return `${u.hostname || 'localhost'}:${u.port || '5432'}/${db}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

export function describeRedis(redisUrl: string): string {
  try {
    const u = new URL(redisUrl);
    const db = u.pathname.length > 1 ? u.pathname : '';
    return `${u.protocol}//${u.hostname || '127.0.0.1'}:${u.port || '6379'}${db}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

// PostgreSQL refusing connections for now: cannot connect now (starting up), too many connections.
const PG_CONNECT_CODES = new Set(['57P03', '53300']);

/** True for errors of reaching PostgreSQL (as opposed to being refused by it, e.g. a bad password). */
export function isConnectError(err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.some(isConnectError);
  const code = (err as { code?: unknown } | null)?.code;
  if (isNetworkErrorCode(code) || (typeof code === 'string' && PG_CONNECT_CODES.has(code))) return true;
  const msg = err instanceof Error ? err.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|the database system is (starting up|shutting down)/i.test(msg);
}
