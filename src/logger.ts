import { pino, type DestinationStream, type Logger } from 'pino';
import { CONNECTION_LOG_REDACT_PATHS, REDACTED } from './crypto/redact-connection.js';

export type { Logger };

/**
 * JSON lines on stdout (or `destination`), one logger per process; children carry the role or job.
 * Location credentials are censored wherever a logged object carries them, so a careless log call
 * cannot leak one.
 */
export function createLogger(level = 'info', base: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options = { level, base: { pid: process.pid, ...base }, redact: { paths: CONNECTION_LOG_REDACT_PATHS, censor: REDACTED } };
  return destination ? pino(options, destination) : pino(options);
}
