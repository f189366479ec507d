import type { Job, Page, Schedule } from '../types/api.js';
import { InvalidArgumentError } from './errors.js';
import { paginate, type PageOptions } from './paging.js';
import { exportBody, type ExportOptions } from './table.js';
import type { Transport } from './transport.js';

export type { Schedule } from '../types/api.js';

/** When a schedule runs: `every` (e.g. `'1h'`, `'15m'`, or seconds, at least 60) or `cron` (e.g. `'0 3 * * *'`, in `timezone`). */
export interface ScheduleTiming {
  every?: string | number;
  cron?: string;
  /** IANA time zone of the cron pattern (default `UTC`). */
  timezone?: string;
}

/** A schedule of one table's export. */
export interface TableScheduleOptions extends ScheduleTiming {
  tableId: number | string;
  /** `changes`: each run exports what changed since the previous successful one (rows, and deleted ids marked `_deleted`). */
  mode?: 'all' | 'changes';
  export: ExportOptions;
}

/** A schedule of a bundle export (several tables, or all of yours). */
export interface BundleScheduleOptions extends ScheduleTiming {
  tables: string[];
  export?: { includeRows?: boolean; compression?: 'none' | 'gzip'; where?: Record<string, Record<string, unknown>> };
}

/** What {@link Schedules.update} may change. */
export interface ScheduleChange extends ScheduleTiming {
  mode?: 'all' | 'changes';
  export?: ExportOptions;
}

/**
 * Exports that run themselves: `tp.schedules`. Each run is an ordinary job (with its mail and
 * webhooks), listed by {@link Schedules.runs}.
 *
 * @example
 * const s = await tp.schedules.create({ tableId: 42, every: '1h', mode: 'changes', export: { fileType: 'ndjson', destination: 's3://bucket/orders/' } });
 * const runs = await tp.schedules.runs(s.id);
 */
export class Schedules {
  /** @internal */
  constructor(private readonly transport: Transport) {}

  /** Creates a schedule; rejects with `InvalidParameterError` naming what is wrong, `NotFoundError` for a table not yours. */
  create(options: TableScheduleOptions | BundleScheduleOptions): Promise<Schedule> {
    if (!options || typeof options !== 'object')
      throw new InvalidArgumentError('schedules.create() needs { tableId | tables, every | cron, export }.');
    const body: Record<string, unknown> = timing(options);
    if ('tableId' in options) {
      body.table_id = options.tableId;
      if (options.mode !== undefined) body.mode = options.mode;
      body.export = exportBody(options.export);
    } else {
      body.tables = options.tables;
      const e = options.export ?? {};
      body.export = {
        ...(e.includeRows === undefined ? {} : { include_rows: e.includeRows }),
        ...(e.compression === undefined ? {} : { compression: e.compression }),
        ...(e.where === undefined ? {} : { where: e.where }),
      };
    }
    return this.transport.json<Schedule>('POST', '/schedules', { json: body });
  }

  /** One page of your schedules, newest first. */
  list(page: PageOptions = {}): Promise<Page<Schedule>> {
    return this.transport.json<Page<Schedule>>('GET', '/schedules', { query: { ...page } });
  }

  /** All your schedules, page after page. */
  all(options: PageOptions = {}): AsyncGenerator<Schedule> {
    return paginate<Schedule>(this.transport, '/schedules', options);
  }

  /** One schedule; rejects with `NotFoundError` when there is no such schedule of yours. */
  get(id: string): Promise<Schedule> {
    return this.transport.json<Schedule>('GET', path(id));
  }

  /** Changes its timing, mode or export (a new mode or export starts a changes schedule over). */
  update(id: string, change: ScheduleChange): Promise<Schedule> {
    const body: Record<string, unknown> = timing(change);
    if (change.mode !== undefined) body.mode = change.mode;
    if (change.export !== undefined) body.export = exportBody(change.export);
    return this.transport.json<Schedule>('PATCH', path(id), { json: body });
  }

  /** No run starts until {@link resume}. */
  pause(id: string): Promise<Schedule> {
    return this.transport.json<Schedule>('POST', `${path(id)}/pause`);
  }

  resume(id: string): Promise<Schedule> {
    return this.transport.json<Schedule>('POST', `${path(id)}/resume`);
  }

  /** Removes the schedule; its past runs stay, as jobs. */
  async delete(id: string): Promise<void> {
    await this.transport.json<void>('DELETE', path(id));
  }

  /** One page of the schedule's runs (ordinary jobs), newest first. */
  runs(id: string, page: PageOptions = {}): Promise<Page<Job>> {
    return this.transport.json<Page<Job>>('GET', `${path(id)}/runs`, { query: { ...page } });
  }
}

function timing(t: ScheduleTiming): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (t.every !== undefined) out.every = t.every;
  if (t.cron !== undefined) out.cron = t.cron;
  if (t.timezone !== undefined) out.timezone = t.timezone;
  return out;
}

function path(id: string): string {
  if (typeof id !== 'string' || id === '') throw new InvalidArgumentError('A schedule id is a non-empty string.');
  return `/schedules/${encodeURIComponent(id)}`;
}
