/**
 * Schedules: exports that run themselves. A schedule is a row (tableport.schedules) and a BullMQ
 * job scheduler on the maintenance queue; each firing births one ordinary export (or bundle export)
 * job through the lifecycle, the same way a request does, so a run has its minute, its row, its
 * mail and its webhooks like any job. Guarantees:
 * - a schedule belongs to its user (another user's is 404);
 * - a run due inside its table's minute waits for it (the firing is delayed, not failed);
 * - a slot fires once, however many firings arrive for it (`claimSlot`): after a stop, the slots
 *   missed while the service was down run once at start-up, not once each;
 * - a `changes` schedule keeps its watermark (the snapshot its last successful run read); see
 *   docs/changes.md.
 */
import { randomUUID } from 'node:crypto';
import { dateOf, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import { BundleExportRequestSchema } from '../contracts/bundles.js';
import { ExportRequestSchema } from '../contracts/exports.js';
import { pathName } from '../contracts/parse.js';
import { everySeconds, everyText, type Schedule, type ScheduleCreateRequest, type ScheduleUpdateRequest } from '../contracts/schedules.js';
import { SecretBox } from '../crypto/secret-box.js';
import type { JobRecord } from '../db/repositories/jobs.repository.js';
import type { ScheduleRecord, SchedulesRepository } from '../db/repositories/schedules.repository.js';
import { AppError, InvalidParameterError, NotFoundError, TooFrequentError } from '../errors.js';
import type { Kinds } from '../jobs/kinds/index.js';
import { toJobErrors } from '../jobs/lifecycle/job-outcomes.js';
import { nextSlot, type JobQueues } from '../jobs/queues.js';
import type { Logger } from '../logger.js';
import type { Job, Page } from '../types/api.js';
import type { JobsService } from './jobs/jobs.service.js';
import { pageMeta, type PageQuery } from './paging.js';
import type { TablesService } from './tables/tables.service.js';

/** Schedules per user: each one is a scheduler every worker keeps. */
export const MAX_SCHEDULES_PER_USER = 100;
/** The shortest `every`: a table takes one export a minute. */
export const MIN_EVERY_SECONDS = 60;

/** Deleted ids are kept at least this long (seconds) for `changes_since` exports: a week. */
export const TOMBSTONE_MIN_KEEP_SECONDS = 7 * 86400;

/** What a firing came to. */
export type FireOutcome =
  | { kind: 'created'; jobId: string }
  | { kind: 'skipped'; why: 'gone' | 'paused' | 'fired' }
  | { kind: 'later'; ms: number }
  | { kind: 'refused'; error_code: string; error_msg: string };

export interface SchedulesDeps {
  config: Config;
  schedules: SchedulesRepository;
  tables: TablesService;
  kinds: Kinds;
  jobsView: JobsService;
  queues: JobQueues;
  logger: Logger;
  clock: Clock;
}

const secs = (d: Date | null) => (d === null ? null : Math.floor(d.getTime() / 1000));
const CONNECTION = '_connection_sealed';

export class SchedulesService {
  private sealer: SecretBox | undefined;

  constructor(private readonly d: SchedulesDeps) {}

  /** A destination's connection is kept sealed to its schedule, never shown (like a job's). */
  private get box(): SecretBox {
    this.sealer ??= new SecretBox(this.d.config.locations.credentialsKey, 'tableport/schedule-connections/v1');
    return this.sealer;
  }

  /** The next firing of each schedule, as its scheduler holds it (ms); empty when the queue cannot say now. */
  private async nextRuns(): Promise<Map<string, number>> {
    try {
      const held = await this.d.queues.scheduleSchedulers();
      return new Map([...held].flatMap(([id, h]) => (h.next === undefined ? [] : [[id, h.next] as [string, number]])));
    } catch (err) {
      this.d.logger.warn({ err }, 'could not read the schedulers; next_run_at is left out');
      return new Map();
    }
  }

  private async show(s: ScheduleRecord): Promise<Schedule> {
    return this.toSchedule(s, (await this.nextRuns()).get(s.id));
  }

  toSchedule(s: ScheduleRecord, next?: number): Schedule {
    const { [CONNECTION]: sealed, ...shown } = s.export;
    return {
      id: s.id,
      table_id: s.table_id === null ? null : Number(s.table_id),
      tables: s.tables,
      every: s.every_seconds === null ? null : everyText(s.every_seconds),
      cron: s.cron,
      timezone: s.timezone,
      mode: s.mode,
      export: sealed === undefined ? shown : { ...shown, connection: '(sealed)' },
      paused: s.paused,
      watermark_at: secs(s.watermark_at),
      last_run_at: secs(s.last_fired_at),
      next_run_at: s.paused || next === undefined ? null : Math.ceil(next / 1000),
      last_job_id: s.last_job_id,
      last_error: s.last_error,
      created_at: secs(s.created_at) ?? 0,
      updated_at: secs(s.updated_at) ?? 0,
    };
  }

  async create(userId: number, p: ScheduleCreateRequest): Promise<Schedule> {
    if ((p.table_id === undefined) === (p.tables === undefined))
      throw new InvalidParameterError('table_id', 'A schedule needs "table_id" (one table) or "tables" (a bundle), not both.');
    const when = this.when(p, true);
    const mode = p.mode ?? 'all';
    let tableId: number | null = null;
    if (p.table_id !== undefined) tableId = (await this.d.tables.require(userId, p.table_id)).id;
    if (mode === 'changes' && tableId === null)
      throw new InvalidParameterError('mode', '"mode": "changes" is for a schedule of one table ("table_id"); a bundle is exported whole.');
    const id = randomUUID();
    const exportParams = this.checkExport(tableId !== null, p.export ?? {}, id);
    if ((await this.d.schedules.list(userId, 1, 0)).total >= MAX_SCHEDULES_PER_USER)
      throw new InvalidParameterError(
        'table_id',
        `You have ${MAX_SCHEDULES_PER_USER} schedules, the most one user may have; delete one first.`,
      );
    const row = await this.d.schedules.insert({
      id,
      user_id: userId,
      table_id: tableId,
      tables: p.tables ?? null,
      every_seconds: when.every_seconds ?? null,
      cron: when.cron ?? null,
      timezone: when.timezone ?? 'UTC',
      mode,
      export: exportParams,
    });
    try {
      await this.register(row);
    } catch (err) {
      await this.d.schedules.delete(id, userId);
      throw err;
    }
    return this.show(row);
  }

  async list(userId: number, q: PageQuery, path: string): Promise<Page<Schedule>> {
    const { total, rows } = await this.d.schedules.list(userId, q.limit, q.offset);
    const next = await this.nextRuns();
    return { meta: pageMeta(path, q, total), objects: rows.map((s) => this.toSchedule(s, next.get(s.id))) };
  }

  async get(userId: number, id: string): Promise<Schedule> {
    return this.show(await this.require(userId, id));
  }

  async update(userId: number, id: string, p: ScheduleUpdateRequest): Promise<Schedule> {
    const old = await this.require(userId, id);
    const when = this.when(p, false, old);
    if (p.mode === 'changes' && old.table_id === null)
      throw new InvalidParameterError('mode', '"mode": "changes" is for a schedule of one table ("table_id"); a bundle is exported whole.');
    const exportParams = p.export === undefined ? undefined : this.checkExport(old.table_id !== null, p.export, id);
    const row = await this.d.schedules.update(id, userId, {
      ...when,
      ...(p.mode === undefined ? {} : { mode: p.mode }),
      ...(exportParams === undefined ? {} : { export: exportParams }),
      // Another mode or selection: the next changes run starts over with every row.
      resetWatermark: (p.mode !== undefined && p.mode !== old.mode) || exportParams !== undefined,
    });
    if (!row) throw this.notFound(id);
    if (!row.paused) await this.register(row);
    return this.show(row);
  }

  async remove(userId: number, id: string): Promise<void> {
    await this.require(userId, id);
    await this.d.queues.removeSchedule(id);
    if (!(await this.d.schedules.delete(id, userId))) throw this.notFound(id);
  }

  /** No run fires while paused; a changes schedule's next run after `resume` takes everything since its last one. */
  async pause(userId: number, id: string): Promise<Schedule> {
    await this.require(userId, id);
    const row = await this.d.schedules.update(id, userId, { paused: true });
    if (!row) throw this.notFound(id);
    await this.d.queues.removeSchedule(id);
    return this.toSchedule(row);
  }

  async resume(userId: number, id: string): Promise<Schedule> {
    await this.require(userId, id);
    const row = await this.d.schedules.update(id, userId, { paused: false });
    if (!row) throw this.notFound(id);
    await this.register(row);
    return this.show(row);
  }

  /** The schedule's runs, newest first: ordinary jobs, as GET /jobs shows them. */
  async runs(userId: number, id: string, q: PageQuery, path: string): Promise<Page<Job>> {
    const s = await this.require(userId, id);
    const { total, jobs } = await this.d.schedules.runs(s.id, q.limit, q.offset);
    return { meta: pageMeta(path, q, total), objects: jobs.map((j: JobRecord) => this.d.jobsView.toJob(j)) };
  }

  /**
   * A firing of schedule `scheduleId` for the slot due at `due` (ms): births one run, once per
   * slot. Inside the table's minute it gives the slot back and asks to be tried again when the
   * minute ends. A run the export refuses (its table deleted, too many rows) is noted on the
   * schedule and the next slot tries again.
   */
  async fire(scheduleId: string, due: number): Promise<FireOutcome> {
    const s = await this.d.schedules.get(scheduleId, null);
    if (!s) {
      // Deleted with its user (a cascade): its scheduler goes too.
      await this.d.queues.removeSchedule(scheduleId);
      return { kind: 'skipped', why: 'gone' };
    }
    if (s.paused) return { kind: 'skipped', why: 'paused' };
    const now = dateOf(this.d.clock);
    const slot = await this.d.schedules.claimSlot(s.id, new Date(Math.min(due, now.getTime())), now);
    if (!slot.claimed) return { kind: 'skipped', why: 'fired' };
    try {
      const created = await this.birth(s);
      await this.d.schedules.noteRun(s.id, created.job_id, null);
      return { kind: 'created', jobId: created.job_id };
    } catch (err) {
      if (err instanceof TooFrequentError) {
        await this.d.schedules.releaseSlot(s.id, now, slot.previous);
        return { kind: 'later', ms: err.retryAfterSeconds * 1000 };
      }
      if (!(err instanceof AppError)) {
        await this.d.schedules.releaseSlot(s.id, now, slot.previous);
        throw err;
      }
      const [first] = toJobErrors(err).errors;
      const error = first ?? { error_code: err.code, error_msg: err.message };
      await this.d.schedules.noteRun(s.id, null, error);
      this.d.logger.info({ scheduleId, error }, 'a scheduled run was refused');
      return { kind: 'refused', error_code: error.error_code, error_msg: error.error_msg };
    }
  }

  /**
   * At a worker's start (and when Redis comes back): every active schedule has its scheduler.
   * A scheduler the backend kept is left alone (its overdue firing, if any, runs once now); one it
   * lost is made again, with one catch-up firing when a slot passed since the last run.
   */
  async reconcile(): Promise<void> {
    const held = await this.d.queues.scheduleSchedulers();
    const now = this.d.clock.now();
    for (const s of await this.d.schedules.active()) {
      if (held.has(s.id)) continue;
      await this.register(s);
      const last = (s.last_fired_at ?? s.created_at).getTime();
      let missed = false;
      try {
        missed = nextSlot(last, repeatOf(s)) <= now;
      } catch (err) {
        this.d.logger.warn({ err, scheduleId: s.id }, 'the schedule has no next slot');
      }
      if (missed) await this.d.queues.addScheduleCatchUp(s.id, now);
    }
  }

  /**
   * Tombstones go once they are older than the longest changes schedule's window twice over (at
   * least TOMBSTONE_MIN_KEEP_SECONDS, for `changes_since` exports), and never before every changes
   * schedule of their table has read them. Returns how many went.
   */
  async pruneTombstones(): Promise<number> {
    const keep = Math.max(TOMBSTONE_MIN_KEEP_SECONDS, 2 * (await this.d.schedules.longestChangesWindowSeconds()));
    return this.d.schedules.pruneTombstones(Math.floor(this.d.clock.now() / 1000) - keep);
  }

  private async birth(s: ScheduleRecord): Promise<{ job_id: string }> {
    const { [CONNECTION]: sealed, ...params } = s.export;
    const withConnection = typeof sealed === 'string' ? { ...params, connection: this.box.open(sealed, s.id) } : params;
    if (s.table_id !== null) {
      const req = ExportRequestSchema.parse(withConnection);
      return this.d.kinds.export.request(s.user_id, String(s.table_id), req, {
        scheduleId: s.id,
        changes: s.mode === 'changes',
        watermark: s.watermark,
      });
    }
    const req = BundleExportRequestSchema.parse({ ...params, tables: s.tables ?? [] });
    return this.d.kinds.bundle_export.request(s.user_id, req, { scheduleId: s.id });
  }

  private async register(s: ScheduleRecord): Promise<void> {
    try {
      await this.d.queues.upsertSchedule(s.id, repeatOf(s));
    } catch (err) {
      if (s.cron !== null && err instanceof Error && !(err instanceof AppError))
        throw new InvalidParameterError(
          'cron',
          `Invalid parameter "cron": "${s.cron}" is not a cron pattern BullMQ can read (${err.message}).`,
        );
      throw err;
    }
  }

  /**
   * `every` or `cron` (one of them), and the time zone a cron pattern is read in. `current`: the
   * schedule being changed, so a new time zone is checked with its pattern (and a new pattern with
   * its time zone) before anything is written.
   */
  private when(
    p: { every?: string | number | undefined; cron?: string | undefined; timezone?: string | undefined },
    required: boolean,
    current?: Pick<ScheduleRecord, 'cron' | 'timezone'>,
  ) {
    if (p.every !== undefined && p.cron !== undefined)
      throw new InvalidParameterError('every', 'A schedule runs "every" so often or at the times of a "cron" pattern, not both.');
    if (required && p.every === undefined && p.cron === undefined)
      throw new InvalidParameterError('every', 'A schedule needs "every" (such as "1h") or "cron" (such as "0 3 * * *").');
    const out: { every_seconds?: number | null; cron?: string | null; timezone?: string } = {};
    if (p.every !== undefined) {
      const seconds = everySeconds(p.every);
      if (seconds < MIN_EVERY_SECONDS)
        throw new InvalidParameterError(
          'every',
          `Invalid parameter "every": at least ${MIN_EVERY_SECONDS} s (a table takes one export a minute).`,
        );
      out.every_seconds = seconds;
      out.cron = null;
    }
    if (p.cron !== undefined) {
      out.cron = p.cron;
      out.every_seconds = null;
    }
    if (p.timezone !== undefined) out.timezone = p.timezone;
    const cron = out.cron !== undefined ? out.cron : (current?.cron ?? null);
    if (cron !== null && (p.cron !== undefined || p.timezone !== undefined)) {
      const tz = out.timezone ?? current?.timezone ?? 'UTC';
      const now = this.d.clock.now();
      const refusal = (zone: string): string | undefined => {
        try {
          nextSlot(now, { pattern: cron, tz: zone });
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      };
      const reason = refusal(tz);
      if (reason !== undefined) {
        if (tz === 'UTC' || refusal('UTC') !== undefined)
          throw new InvalidParameterError('cron', `Invalid parameter "cron": "${cron}" is not a cron pattern (${reason}).`);
        throw new InvalidParameterError(
          'timezone',
          `Invalid parameter "timezone": "${tz}" is not a time zone the cron pattern can be read in (${reason}); give an IANA name such as "Europe/Paris".`,
        );
      }
    }
    return out;
  }

  /** The export's parameters, checked with the export's own schema now (the table-dependent checks happen at each run); the connection sealed. */
  private checkExport(table: boolean, raw: Record<string, unknown>, id: string): Record<string, unknown> {
    const schema = table ? ExportRequestSchema : BundleExportRequestSchema.omit({ tables: true });
    const input = table ? { mode: 'all', ...raw } : raw;
    const r = schema.safeParse(input);
    if (!r.success) {
      const [issue] = r.error.issues;
      const param = `export.${pathName(issue?.path ?? [])}`.replace(/\.$/, '');
      throw new InvalidParameterError(param, `Invalid parameter "${param}": ${issue?.message ?? 'not valid'}.`);
    }
    const { connection, ...rest } = input as Record<string, unknown>;
    if (table && rest.changes_since !== undefined && rest.changes_since !== null)
      throw new InvalidParameterError(
        'export.changes_since',
        'A schedule takes "mode": "changes" instead of "changes_since": it keeps its own watermark.',
      );
    if (connection === undefined || connection === null) return rest;
    return { ...rest, [CONNECTION]: this.box.seal(connection, id) };
  }

  private async require(userId: number, id: string): Promise<ScheduleRecord> {
    const s = await this.d.schedules.get(id, userId);
    if (!s) throw this.notFound(id);
    return s;
  }

  private notFound(id: string): NotFoundError {
    return new NotFoundError(`Schedule ${String(id).slice(0, 64)} was not found.`);
  }
}

/** A schedule's timing as BullMQ's repeat options. */
function repeatOf(s: ScheduleRecord): { every: number } | { pattern: string; tz: string } {
  return s.every_seconds !== null ? { every: s.every_seconds * 1000 } : { pattern: s.cron ?? '', tz: s.timezone };
}
