/**
 * The per-table minute in PostgreSQL, for deployments without Redis: one statement takes it or says
 * how long its holder keeps it. The row lock and READ COMMITTED's re-check of the newest row version
 * make it atomic across any number of API processes, as the Redis script is.
 */
import type { Clock } from '../../clock.js';
import type { Pool } from '../../db/pool.js';
import { TooFrequentError } from '../../errors.js';
import type { MinuteStore } from '../queue-backend.js';

// $4 is now by the service's clock: the minute ends by the same clock that tests move.
const ACQUIRE = `
INSERT INTO tableport.minutes AS m (kind, key, holder, ends_at) VALUES ($1, $2, $3, $4::timestamptz + make_interval(secs => $5))
ON CONFLICT (kind, key) DO UPDATE SET
  holder = CASE WHEN m.ends_at <= $4::timestamptz THEN EXCLUDED.holder ELSE m.holder END,
  ends_at = CASE WHEN m.ends_at <= $4::timestamptz THEN EXCLUDED.ends_at ELSE m.ends_at END
RETURNING CASE WHEN holder = $3 THEN 0 ELSE ceil(extract(epoch FROM ends_at - $4::timestamptz) * 1000) END::bigint AS left_ms`;

export class PostgresMinutes implements MinuteStore {
  constructor(
    private readonly pool: Pool,
    private readonly intervalSeconds: number,
    private readonly clock: Clock,
  ) {}

  async acquire(kind: string, key: number, holder: string): Promise<void> {
    const { rows } = await this.pool.query<{ left_ms: number }>(ACQUIRE, [
      kind,
      key,
      holder,
      new Date(this.clock.now()),
      this.intervalSeconds,
    ]);
    const left = rows[0]?.left_ms ?? 0;
    if (left > 0) throw new TooFrequentError(Math.max(1, Math.ceil(left / 1000)), kind);
  }

  async check(kind: string, key: number): Promise<void> {
    const { rows } = await this.pool.query<{ left_ms: number }>(
      'SELECT ceil(extract(epoch FROM ends_at - $3::timestamptz) * 1000)::bigint AS left_ms FROM tableport.minutes WHERE kind = $1 AND key = $2 AND ends_at > $3::timestamptz',
      [kind, key, new Date(this.clock.now())],
    );
    const left = rows[0]?.left_ms ?? 0;
    if (left > 0) throw new TooFrequentError(Math.max(1, Math.ceil(left / 1000)), kind);
  }

  async release(kind: string, key: number, holder: string): Promise<void> {
    await this.pool.query('DELETE FROM tableport.minutes WHERE kind = $1 AND key = $2 AND holder = $3', [kind, key, holder]);
  }
}
