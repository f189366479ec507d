/**
 * The cancel signal when jobs queue in PostgreSQL: NOTIFY on one channel of the service's
 * database, heard by a LISTEN connection per worker process. A listener that lost its connection
 * makes a new one (100 ms doubling to 2 s); a cancel sent meanwhile is not lost for long, because
 * every running attempt's heartbeat also reads its job's status.
 */
import pg from 'pg';
import { sleep } from '../../clock.js';
import type { Pool } from '../../db/pool.js';
import type { Logger } from '../../logger.js';
import type { CancelChannel } from '../queue-backend.js';

export const CANCEL_CHANNEL = 'tableport_cancel';

export function postgresCancels(pool: Pool, databaseUrl: string, logger: Logger): CancelChannel & { close(): Promise<void> } {
  const listeners = new Set<() => Promise<void>>();
  return {
    async publish(jobId) {
      await pool.query('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, jobId]);
    },
    subscribe(onCancel) {
      const stopping = new AbortController();
      let client: pg.Client | undefined;
      const listen = async () => {
        for (let attempt = 0; !stopping.signal.aborted; attempt++) {
          const c = new pg.Client({ connectionString: databaseUrl, keepAlive: true, application_name: 'tableport-cancels' });
          const ended = new Promise<void>((resolve) => c.once('end', () => resolve()));
          c.on('error', () => undefined);
          c.on('notification', (m) => {
            if (m.channel === CANCEL_CHANNEL && m.payload) onCancel(m.payload);
          });
          try {
            await c.connect();
            await c.query(`LISTEN ${CANCEL_CHANNEL}`);
            client = c;
            attempt = 0;
            await ended;
          } catch (err) {
            if (attempt === 0) logger.warn({ err }, 'could not listen for job cancels; retrying');
            await c.end().catch(() => undefined);
          }
          await sleep(Math.min(100 * 2 ** attempt, 2000), stopping.signal).catch(() => undefined);
        }
      };
      void listen();
      const stop = async () => {
        stopping.abort();
        listeners.delete(stop);
        await client?.end().catch(() => undefined);
      };
      listeners.add(stop);
      return stop;
    },
    async close() {
      for (const stop of [...listeners]) await stop();
    },
  };
}
