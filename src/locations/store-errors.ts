/**
 * What every driver shares: its context (the location settings and the outbound guard) and the
 * last step of error mapping. A store's own error (not found, access denied) is mapped by the
 * driver; here, a refusal by the guard is found wherever a client library wrapped it, and anything
 * else becomes a LocationUnavailableError that names the location but never echoes the library's
 * message, which may hold a key id, a signature or an internal address. A timeout (see
 * net/outbound-deadline.ts) says which host:port went quiet: the endpoint the user named or the
 * provider's, never a credential.
 */
import type { LocationsConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { isAppError, LocationUnavailableError, OutboundAddressRefusedError } from '../errors.js';
import { OutboundTimeoutError, TransferAbortedError } from '../net/outbound-deadline.js';
import type { OutboundGuard } from '../net/outbound-guard.js';

export interface DriverContext {
  config: LocationsConfig;
  guard: OutboundGuard;
  /** Where client libraries' own warnings go (as JSON lines, never straight to the console). */
  logger?: Logger;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
]);

export function mapStoreError(err: unknown, href: string, storeSpecific: (err: Error) => Error | undefined): Error {
  const refused = findInChain(err, (e) => e instanceof OutboundAddressRefusedError);
  if (refused) return refused;
  if (isAppError(err) || err instanceof TransferAbortedError) return err;
  // Before the store's own mapping: a timeout is often wrapped as a generic error of the library.
  const timeout = OutboundTimeoutError.find(err);
  if (timeout) return new LocationUnavailableError(href, timeout.message);
  if (!(err instanceof Error)) return new LocationUnavailableError(href, 'an unknown failure');
  const mapped = storeSpecific(err);
  if (mapped) return mapped;
  const network = findInChain(err, (e) => NETWORK_CODES.has(String((e as NodeJS.ErrnoException).code ?? e.name)));
  if (network)
    return new LocationUnavailableError(href, `the connection failed (${(network as NodeJS.ErrnoException).code ?? network.name})`);
  const status =
    (err as { $metadata?: { httpStatusCode?: number }; statusCode?: number; code?: unknown }).$metadata?.httpStatusCode ??
    (err as { statusCode?: number }).statusCode;
  return new LocationUnavailableError(href, status ? `the store answered HTTP ${status}` : `the store failed (${err.name})`);
}

function findInChain(err: unknown, pred: (e: Error) => boolean): Error | undefined {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e instanceof Error && !seen.has(e)) {
    if (pred(e)) return e;
    seen.add(e);
    const next: unknown = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
    if (next === undefined && e instanceof AggregateError) return e.errors.find((x) => x instanceof Error && pred(x)) as Error | undefined;
    e = next;
  }
  return undefined;
}
