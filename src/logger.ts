import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout, one logger per process; children carry the role or job. */
export function createLogger(level: string = 'info', base: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options = { level, base: { pid: process.pid, ...base } };
  return destination ? pino(options, destination) : pino(options);
}
