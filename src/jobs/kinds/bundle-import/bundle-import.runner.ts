/**
 * A bundle import's work, all inside the job's one transaction (the claim's, from the job
 * lifecycle): the caller's tables are locked, each bundle table is created, recreated or appended
 * to and its rows COPYed in, each in a savepoint so a table that fails is rolled back alone and the
 * next tables are still checked; at the end `reset` drops the tables the bundle left out. If any
 * table failed, nothing is kept: the error rolls the whole transaction back, and each table's
 * outcome ("" or why) is recorded outside it for the status endpoint.
 */
import { once } from 'node:events';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BundleImportPlanner,
  BundleRowsEncoder,
  readBundle,
  type BundleLimits,
  type BundleRow,
  type TableAction,
} from '../../../bundles/index.js';
import { systemClock, unixSeconds, type Clock } from '../../../clock.js';
import type { PoolClient } from '../../../db/pool.js';
import type { BundleJobsRepository } from '../../../db/repositories/bundle-jobs.repository.js';
import type { JobsRepository } from '../../../db/repositories/jobs.repository.js';
import type { RowsRepository } from '../../../db/repositories/rows.repository.js';
import type { WorkspaceRepository } from '../../../db/repositories/workspace.repository.js';
import { AppError, BundleImportFailedError } from '../../../errors.js';
import { createRowIdGenerator } from '../../../services/tables/row-id.js';
import type { FieldSchema, JobError } from '../../../types/api.js';
import type { JobRunContext } from '../../job-kind.js';
import { progressReporter } from '../../job-progress.js';
import type { BundleImportParams } from './bundle-import.kind.js';
import type { BundleSources } from './bundle-source.js';
import type { ValueLimits } from '../../../formats/values.js';

const SAVEPOINT = 'tableport_bundle_table';
/** Problems listed per table in the job's errors (all are counted). */
const ERRORS_PER_TABLE = 20;

export interface BundleImportRunnerDeps {
  workspace: WorkspaceRepository;
  rows: RowsRepository;
  jobs: JobsRepository;
  bundleJobs: BundleJobsRepository;
  sources: BundleSources;
  limits: Partial<BundleLimits>;
  /** MAX_CELL_BYTES and MAX_JSON_DEPTH for the rows' values. */
  valueLimits?: ValueLimits;
  clock?: Clock;
}

/** One bundle table being imported. */
interface OpenTable {
  target: string;
  /** The table already failed (its plan): its rows are read past, nothing is written. */
  skipped?: boolean;
  /** Rows go here. */
  input?: PassThrough;
  encoder?: BundleRowsEncoder;
  done?: Promise<void>;
  error?: unknown;
}

export class BundleImportRunner {
  private readonly newId = createRowIdGenerator();

  constructor(private readonly d: BundleImportRunnerDeps) {}

  async run(ctx: JobRunContext): Promise<{ rows: number }> {
    const { job, db } = ctx;
    const p = job.params as unknown as BundleImportParams;
    const status: Record<string, string> = {};
    const errors: JobError[] = [];
    let errorCount = 0;
    let rows = 0;
    const fail = (target: string, reason: string, code: string, list: JobError[] = []) => {
      status[target] = reason;
      errors.push(
        ...(list.length ? list.slice(0, ERRORS_PER_TABLE) : [{ error_code: code, error_msg: `table "${target}": ${reason}` }]).map((e) => ({
          ...e,
          table: target,
        })),
      );
      errorCount += Math.max(1, list.length);
    };

    const opened = await this.d.sources.open(job.id, p, job.upload_key, ctx.signal);
    const report = progressReporter(this.d.jobs, job.id, opened.size ?? 0);
    const existing = await this.d.workspace.lockAll(db, job.user_id);
    const planner = new BundleImportPlanner(p.mode, existing, p.rename);
    const defaults = { createdAt: unixSeconds(this.d.clock ?? systemClock), createdBy: String(job.user_id), newId: this.newId };
    let current: OpenTable | undefined;

    try {
      for await (const ev of readBundle(counted(opened.stream, report), this.d.limits)) {
        if (ctx.signal.aborted) throw new Error('The worker is shutting down.');
        if (ev.kind === 'table') {
          const action = planner.table({ name: ev.name, schema: ev.schema });
          status[action.target] = '';
          if (action.action === 'fail') {
            fail(action.target, action.reason, 'table_conflict');
            current = { target: action.target, skipped: true };
          } else current = await this.begin(db, job.user_id, action, defaults);
        } else if (ev.kind === 'rows') {
          if (current) await write(current, ev.rows);
        } else if (ev.kind === 'table_end' && current) {
          const t = current;
          current = undefined;
          if (t.skipped) continue;
          const outcome = await this.end(db, t);
          if (outcome.ok) rows += outcome.rows;
          else fail(t.target, outcome.reason, outcome.code, outcome.errors);
        }
      }
    } catch (err) {
      // The bundle itself is refused (not JSON, a cap, a refused name): the table being read gets the reason.
      if (current?.input) await abort(current, err);
      if (!(err instanceof AppError)) throw err;
      if (current) status[current.target] = err.message;
      errors.push({ error_code: err.code, error_msg: err.message, ...(current ? { table: current.target } : {}) });
      await this.d.bundleJobs.setTables(job.id, status);
      throw new BundleImportFailedError(
        status,
        errors,
        errorCount + 1,
        `The bundle was not imported: ${err.message.replace(/\.$/, '')}. No table was changed.`,
      );
    }

    const end = planner.finish();
    for (const name of end.unusedRenames) {
      errors.push({ error_code: 'invalid_parameter', error_msg: `"rename" names the table "${name}", which is not in the bundle.` });
      errorCount++;
    }
    if (errorCount > 0) {
      await this.d.bundleJobs.setTables(job.id, status);
      throw new BundleImportFailedError(status, errors, errorCount);
    }
    for (const t of end.drop) await this.d.workspace.drop(db, t.id);
    await this.d.bundleJobs.setTables(job.id, status, db);
    return { rows };
  }

  /** Creates, recreates or keeps the target table in a savepoint and starts its COPY. */
  private async begin(
    db: PoolClient,
    ownerId: number,
    action: Exclude<TableAction, { action: 'fail' }>,
    defaults: { createdAt: number; createdBy: string; newId: () => string },
  ): Promise<OpenTable> {
    await this.d.workspace.savepoint(db, SAVEPOINT);
    const t: OpenTable = { target: action.target };
    let tableId: number;
    let fields: FieldSchema[];
    try {
      if (action.action === 'create') tableId = (await this.d.workspace.create(db, ownerId, action.target, action.schema)).id;
      else {
        tableId = action.existing.id;
        if (action.action === 'recreate') await this.d.workspace.recreate(db, tableId, action.schema);
      }
      fields = action.schema.fields;
    } catch (err) {
      t.error = err;
      return t;
    }
    t.encoder = new BundleRowsEncoder({
      fields,
      defaults,
      limits: this.d.valueLimits,
      maxRows: Number.MAX_SAFE_INTEGER,
      maxErrors: ERRORS_PER_TABLE,
    });
    t.input = new PassThrough({ objectMode: true, highWaterMark: 1024 });
    t.done = pipeline(t.input, t.encoder, this.d.rows.copyIn(db, tableId, fields)).catch((err: unknown) => {
      t.error = err;
    });
    return t;
  }

  /** Ends the table's COPY and keeps it (release) or undoes it (rollback to the savepoint). */
  private async end(
    db: PoolClient,
    t: OpenTable,
  ): Promise<{ ok: true; rows: number } | { ok: false; reason: string; code: string; errors?: JobError[] }> {
    if (t.input && t.done) {
      t.input.end();
      await t.done;
    }
    const enc = t.encoder;
    let failure: { ok: false; reason: string; code: string; errors?: JobError[] } | undefined;
    if (t.error !== undefined) failure = { ok: false, code: errorCode(t.error), reason: explain(t.error) };
    else if (enc && enc.errorCount > 0) {
      const shown = enc.errors
        .slice(0, 3)
        .map((e) => e.error_msg)
        .join('; ');
      const more = enc.errorCount > 3 ? `; and ${enc.errorCount - 3} more` : '';
      failure = {
        ok: false,
        code: 'invalid_row',
        reason: `${enc.badRows} ${enc.badRows === 1 ? 'row is' : 'rows are'} not valid: ${shown}${more}`,
        errors: enc.errors.map((e) => ({ ...e, error_msg: `table "${t.target}": ${e.error_msg}` })),
      };
    }
    if (failure) {
      await this.d.workspace.rollbackTo(db, SAVEPOINT);
      return failure;
    }
    await this.d.workspace.release(db, SAVEPOINT);
    return { ok: true, rows: enc?.rows ?? 0 };
  }
}

/** Writes a batch of rows into the table's COPY, as fast as it takes them; stops once it failed. */
async function write(t: OpenTable, rows: BundleRow[]): Promise<void> {
  const input = t.input;
  if (!input || !t.done) return;
  for (const r of rows) {
    if (t.error !== undefined) return;
    if (!input.write(r)) await Promise.race([once(input, 'drain').catch(() => undefined), t.done]);
  }
}

async function abort(t: OpenTable, err: unknown): Promise<void> {
  t.input?.destroy(err instanceof Error ? err : new Error(String(err)));
  await t.done;
}

/**
 * A table's COPY or DDL failed. What the data caused (a duplicate id, a value PostgreSQL refuses,
 * the row cap) is that table's failure; anything else (a lost connection) is rethrown, so the job
 * is retried rather than blamed on the bundle.
 */
function explain(err: unknown): string {
  if (err instanceof AppError) return err.message;
  const e = err as { code?: string; detail?: string; where?: string; message?: string };
  if (e.code === '23505' && /\(id\)=/.test(e.detail ?? '')) {
    const id = /\(id\)=\((.*)\)/.exec(e.detail ?? '')?.[1] ?? '?';
    const row = /COPY \S+, line (\d+)/.exec(e.where ?? '')?.[1];
    return `${row ? `row ${row}: ` : ''}the id "${id}" appears twice in the bundle's table, or is already in the table`;
  }
  if (e.code === '23505') return 'a table of that name was created meanwhile';
  if (typeof e.code === 'string' && (e.code.startsWith('22') || e.code.startsWith('23') || e.code === '54000')) {
    return `PostgreSQL refused a row: ${e.message ?? e.code}`;
  }
  throw err;
}

function errorCode(err: unknown): string {
  if (err instanceof AppError) return err.code;
  return (err as { code?: string }).code === '23505' ? 'invalid_row' : 'invalid_file';
}

function counted(source: Readable, report: (bytes: number) => void): Readable {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytes += chunk.length;
      report(bytes);
      cb(null, chunk);
    },
  });
  source.once('error', (err) => counter.destroy(err));
  counter.once('close', () => source.destroy());
  return source.pipe(counter);
}
