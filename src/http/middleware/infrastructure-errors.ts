import { ServiceUnavailableError } from '../../errors.js';
import { isNetworkErrorCode } from '../../net/network-errors.js';

// PostgreSQL: too many connections, shutting down, cannot connect now, query cancelled (statement_timeout).
const PG_UNAVAILABLE = new Set(['53300', '57P01', '57P02', '57P03', '57014', '08000', '08001', '08003', '08006']);
const MESSAGES = [
  /timeout exceeded when trying to connect/i, // pg pool: connectionTimeoutMillis
  /Connection terminated/i, // pg: the server went away mid-query
  /Stream isn't writeable/i, // ioredis with the offline queue off
  /Reached the max retries per request limit/i, // ioredis MaxRetriesPerRequestError
  /Command timed out/i, // ioredis commandTimeout
  /Connection is closed/i, // ioredis
];

/**
 * A lost PostgreSQL or Redis is not the client's fault and not a bug: the API answers
 * `503 service_unavailable` with `Retry-After` instead of a 500, so clients and load balancers retry.
 */
export function infrastructureError(err: unknown): ServiceUnavailableError | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (isNetworkErrorCode(code) || (typeof code === 'string' && PG_UNAVAILABLE.has(code))) return new ServiceUnavailableError();
  if (err.name === 'MaxRetriesPerRequestError') return new ServiceUnavailableError();
  if (MESSAGES.some((re) => re.test(err.message))) return new ServiceUnavailableError();
  // AggregateError from a connection attempt to several addresses (localhost: ::1 and 127.0.0.1).
  if (err instanceof AggregateError && err.errors.some((e) => infrastructureError(e))) return new ServiceUnavailableError();
  return undefined;
}
