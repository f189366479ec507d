import type { WebhookEvent } from '../../types/api.js';
import type { Pool } from '../pool.js';
import { isUuid } from './jobs.repository.js';
import { storableText } from '../../formats/storable-text.js';

export interface WebhookRecord {
  id: string;
  user_id: number;
  url: string;
  events: WebhookEvent[];
  /** SecretBox envelope of the signing secret, or null. */
  secret: string | null;
  created_at: Date;
}

export interface DeliveryRecord {
  id: number;
  webhook_id: string;
  job_id: string;
  event: WebhookEvent;
  attempt: number;
  http_status: number | null;
  error: string | null;
  created_at: Date;
}

export class WebhooksRepository {
  constructor(private readonly pool: Pool) {}

  async insert(w: Omit<WebhookRecord, 'created_at'>): Promise<WebhookRecord> {
    const { rows } = await this.pool.query<WebhookRecord>(
      'INSERT INTO tableport.webhooks (id, user_id, url, events, secret) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [w.id, w.user_id, w.url, w.events, w.secret],
    );
    const row = rows[0];
    if (!row) throw new Error('INSERT ... RETURNING gave no row');
    return row;
  }

  /** The webhook if it exists and belongs to `userId` (`null`: any user). */
  async get(id: string, userId: number | null): Promise<WebhookRecord | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query<WebhookRecord>(
      'SELECT * FROM tableport.webhooks WHERE id = $1 AND ($2::bigint IS NULL OR user_id = $2)',
      [id, userId],
    );
    return rows[0] ?? null;
  }

  async list(userId: number): Promise<WebhookRecord[]> {
    const { rows } = await this.pool.query<WebhookRecord>('SELECT * FROM tableport.webhooks WHERE user_id = $1 ORDER BY created_at, id', [
      userId,
    ]);
    return rows;
  }

  /** The user's webhooks that asked for `event`. */
  async forEvent(userId: number, event: WebhookEvent): Promise<WebhookRecord[]> {
    const { rows } = await this.pool.query<WebhookRecord>('SELECT * FROM tableport.webhooks WHERE user_id = $1 AND $2 = ANY (events)', [
      userId,
      event,
    ]);
    return rows;
  }

  async delete(id: string, userId: number): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { rowCount } = await this.pool.query('DELETE FROM tableport.webhooks WHERE id = $1 AND user_id = $2', [id, userId]);
    return rowCount === 1;
  }

  async logDelivery(d: Omit<DeliveryRecord, 'id' | 'created_at'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO tableport.webhook_deliveries (webhook_id, job_id, event, attempt, http_status, error)
       SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM tableport.webhooks WHERE id = $1)`,
      [d.webhook_id, d.job_id, d.event, d.attempt, d.http_status, d.error === null ? null : storableText(d.error)],
    );
  }

  /** The newest deliveries of a webhook first. */
  async deliveries(webhookId: string, limit: number, offset: number): Promise<{ total: number; rows: DeliveryRecord[] }> {
    const [count, page] = await Promise.all([
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tableport.webhook_deliveries WHERE webhook_id = $1', [webhookId]),
      this.pool.query<DeliveryRecord>(
        'SELECT * FROM tableport.webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3',
        [webhookId, limit, offset],
      ),
    ]);
    return { total: count.rows[0]?.n ?? 0, rows: page.rows };
  }
}
