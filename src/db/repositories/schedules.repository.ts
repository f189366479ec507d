/**
 * Schedules' SQL: the rows, the slot a firing claims (so a run fires once however many firings
 * arrive for it), and the changes watermark, locked and advanced inside a run's own transaction.
 */
import type { JobError } from '../../types/api.js';
import type { JobRecord } from './jobs.repository.js';
import type { Pool, PoolClient } from '../pool.js';
import { singleRow } from '../single-row.js';

export interface ScheduleRecord {
  id: string;
  user_id: number;
  table_id: number | null;
  tables: string[] | null;
  every_seconds: number | null;
  cron: string | null;
  timezone: string;
  mode: 'all' | 'changes';
  export: Record<string, unknown>;
  paused: boolean;
  watermark: string | null;
  watermark_at: Date | null;
  last_fired_at: Date | null;
  last_job_id: string | null;
  last_error: JobError | null;
  created_at: Date;
  updated_at: Date;
}

export type NewSchedule = Pick<
  ScheduleRecord,
  'id' | 'user_id' | 'table_id' | 'tables' | 'every_seconds' | 'cron' | 'timezone' | 'mode' | 'export'
>;

export type ScheduleChange = Partial<Pick<ScheduleRecord, 'every_seconds' | 'cron' | 'timezone' | 'mode' | 'export'>>;

type Queryable = Pick<Pool, 'query'> | PoolClient;

export class SchedulesRepository {
  constructor(private readonly pool: Pool) {}

  async insert(s: NewSchedule): Promise<ScheduleRecord> {
    const { rows } = await this.pool.query<ScheduleRecord>(
      `INSERT INTO tableport.schedules (id, user_id, table_id, tables, every_seconds, cron, timezone, mode, export)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [s.id, s.user_id, s.table_id, s.tables, s.every_seconds, s.cron, s.timezone, s.mode, JSON.stringify(s.export)],
    );
    return singleRow(rows, 'INSERT INTO tableport.schedules');
  }

  /** The schedule if it exists and belongs to `userId` (`null`: any user). */
  async get(id: string, userId: number | null): Promise<ScheduleRecord | null> {
    if (!UUID.test(id)) return null;
    const { rows } = await this.pool.query<ScheduleRecord>(
      'SELECT * FROM tableport.schedules WHERE id = $1 AND ($2::bigint IS NULL OR user_id = $2)',
      [id, userId],
    );
    return rows[0] ?? null;
  }

  async list(userId: number, limit: number, offset: number): Promise<{ total: number; rows: ScheduleRecord[] }> {
    const [count, page] = await Promise.all([
      this.pool.query<{ n: string }>('SELECT count(*) AS n FROM tableport.schedules WHERE user_id = $1', [userId]),
      this.pool.query<ScheduleRecord>(
        'SELECT * FROM tableport.schedules WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3',
        [userId, limit, offset],
      ),
    ]);
    return { total: Number(singleRow(count.rows, 'The schedule count').n), rows: page.rows };
  }

  /** Every schedule that should have a scheduler (not paused): what start-up reconciles. */
  async active(): Promise<ScheduleRecord[]> {
    const { rows } = await this.pool.query<ScheduleRecord>('SELECT * FROM tableport.schedules WHERE NOT paused ORDER BY created_at');
    return rows;
  }

  async update(
    id: string,
    userId: number,
    c: ScheduleChange & { paused?: boolean; resetWatermark?: boolean },
  ): Promise<ScheduleRecord | null> {
    const { rows } = await this.pool.query<ScheduleRecord>(
      `UPDATE tableport.schedules SET
         every_seconds = CASE WHEN $3 THEN $4::integer ELSE every_seconds END,
         cron = CASE WHEN $3 THEN $5::text ELSE cron END,
         timezone = coalesce($6, timezone),
         mode = coalesce($7, mode),
         export = coalesce($8::jsonb, export),
         paused = coalesce($9, paused),
         watermark = CASE WHEN $10 THEN NULL ELSE watermark END,
         watermark_at = CASE WHEN $10 THEN NULL ELSE watermark_at END,
         updated_at = now()
       WHERE id = $1 AND user_id = $2 RETURNING *`,
      [
        id,
        userId,
        c.every_seconds !== undefined || c.cron !== undefined,
        c.every_seconds ?? null,
        c.cron ?? null,
        c.timezone ?? null,
        c.mode ?? null,
        c.export === undefined ? null : JSON.stringify(c.export),
        c.paused ?? null,
        c.resetWatermark === true,
      ],
    );
    return rows[0] ?? null;
  }

  async delete(id: string, userId: number): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const { rowCount } = await this.pool.query('DELETE FROM tableport.schedules WHERE id = $1 AND user_id = $2', [id, userId]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * Claims the firing due at `due` for this schedule: true for the first firing of a slot, false
   * for any other (a catch-up and BullMQ's own overdue job after a restart, or a second worker).
   * Returns the previous fire time too, to give the slot back when the run cannot be born yet.
   */
  async claimSlot(id: string, due: Date, now: Date): Promise<{ claimed: boolean; previous: Date | null }> {
    const { rows } = await this.pool.query<{ previous: Date | null }>(
      `UPDATE tableport.schedules s SET last_fired_at = $3
         FROM (SELECT id, last_fired_at AS previous FROM tableport.schedules WHERE id = $1 FOR UPDATE) p
        WHERE s.id = p.id AND NOT s.paused AND (s.last_fired_at IS NULL OR s.last_fired_at < $2)
        RETURNING p.previous`,
      [id, due, now],
    );
    return rows[0] ? { claimed: true, previous: rows[0].previous } : { claimed: false, previous: null };
  }

  /** Gives a claimed slot back (the run waits for its table's minute): the delayed firing claims it again. */
  async releaseSlot(id: string, firedAt: Date, previous: Date | null): Promise<void> {
    await this.pool.query('UPDATE tableport.schedules SET last_fired_at = $3 WHERE id = $1 AND last_fired_at = $2', [
      id,
      firedAt,
      previous,
    ]);
  }

  async noteRun(id: string, jobId: string | null, error: JobError | null): Promise<void> {
    await this.pool.query('UPDATE tableport.schedules SET last_job_id = coalesce($2, last_job_id), last_error = $3 WHERE id = $1', [
      id,
      jobId,
      error === null ? null : JSON.stringify(error),
    ]);
  }

  /**
   * The watermark a changes run starts from, its schedule locked until the run's transaction ends:
   * two runs of one schedule never read from the same watermark. Undefined: the schedule is gone.
   */
  async lockWatermark(db: PoolClient, id: string): Promise<{ watermark: string | null } | undefined> {
    const { rows } = await db.query<{ watermark: string | null }>('SELECT watermark FROM tableport.schedules WHERE id = $1 FOR UPDATE', [
      id,
    ]);
    return rows[0];
  }

  /** Moves the watermark to the snapshot the run read, in the run's transaction: it moves only if the run succeeds. */
  async advanceWatermark(db: Queryable, id: string, snapshot: string, at: Date): Promise<void> {
    await db.query('UPDATE tableport.schedules SET watermark = $2, watermark_at = $3 WHERE id = $1', [id, snapshot, at]);
  }

  /** A schedule's runs, newest first. */
  async runs(scheduleId: string, limit: number, offset: number): Promise<{ total: number; jobs: JobRecord[] }> {
    const [count, page] = await Promise.all([
      this.pool.query<{ n: string }>('SELECT count(*) AS n FROM tableport.jobs WHERE schedule_id = $1', [scheduleId]),
      this.pool.query<JobRecord>(
        'SELECT * FROM tableport.jobs WHERE schedule_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3',
        [scheduleId, limit, offset],
      ),
    ]);
    return { total: Number(singleRow(count.rows, 'The run count').n), jobs: page.rows };
  }

  /** The longest window among the changes schedules (seconds between runs; cron counted as a day at most): how long tombstones are kept. */
  async longestChangesWindowSeconds(): Promise<number> {
    const { rows } = await this.pool.query<{ s: string | null }>(
      `SELECT max(coalesce(every_seconds, 86400))::bigint AS s FROM tableport.schedules WHERE mode = 'changes'`,
    );
    return Number(rows[0]?.s ?? 0);
  }

  /**
   * Removes tombstones older than `before` (Unix seconds) that every changes schedule of their
   * table has read (its watermark sees them), and those of tables that no longer exist.
   */
  async pruneTombstones(before: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM tableport.tombstones d
        WHERE NOT EXISTS (SELECT 1 FROM tableport.tables t WHERE t.id = d.table_id)
           OR (d.deleted_at < $1
               AND NOT EXISTS (SELECT 1 FROM tableport.schedules s
                                WHERE s.mode = 'changes' AND s.table_id = d.table_id
                                  AND s.watermark IS NOT NULL AND NOT pg_visible_in_snapshot(d.xid, split_part(s.watermark, '|', 1)::pg_snapshot)))`,
      [before],
    );
    return rowCount ?? 0;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
