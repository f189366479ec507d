import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout, one logger per process; children carry the role or job. */
export function createLogger(level: string = 'info', base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...base } });
}
