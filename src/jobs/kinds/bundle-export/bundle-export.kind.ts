/**
 * Bundle exports: several tables, their schemas and rows, as one JSON file. As a job (`POST
 * /data/export/`, the file emailed like an export's) or, for schema-only and small selections,
 * straight back (`GET /data/export/`, eKuiper's download).
 */
import type { Readable } from 'node:stream';
import { createBundleWriter, type BundleTableSource } from '../../../bundles/index.js';
import { dateOf, unixSeconds } from '../../../clock.js';
import type { BundleDownloadQuery, BundleExportRequest } from '../../../contracts/bundles.js';
import type { NewJob } from '../../../db/repositories/jobs.repository.js';
import { compileWhere, parameterBinder } from '../../../db/query/index.js';
import type { TableRecord } from '../../../db/repositories/tables.repository.js';
import type { WorkspaceRepository } from '../../../db/repositories/workspace.repository.js';
import { AppError, InvalidParameterError, TooManyRowsError } from '../../../errors.js';
import { exportFileKey } from '../../../storage/index.js';
import type { Compression, JobCreatedResponse } from '../../../types/api.js';
import type { JobKind, JobPlan, JobResult, JobRunContext } from '../../job-kind.js';
import { QueueName } from '../../job-names.js';
import { progressReporter } from '../../job-progress.js';
import { tooFrequent } from '../bundle-import/bundle-import.kind.js';
import type { KindDeps } from '../kind-deps.js';

/** eKuiper's download is for schemas and small data: past this many rows, use the job. */
export const BUNDLE_DOWNLOAD_MAX_ROWS = 10_000;

export interface BundleExportParams {
  tables: string[];
  include_rows: boolean;
  where?: Record<string, Record<string, unknown>>;
  compression: Compression;
  expected_rows: number;
}

export class BundleExportKind implements JobKind<'bundle_export'> {
  readonly type = 'bundle_export';
  readonly queue = QueueName.Export;
  readonly folder = 'export';
  readonly minutePer = 'user';
  readonly keepsUploadForRetry = false;
  readonly notRetriable = 'bundle';

  constructor(private readonly d: KindDeps & { workspace: WorkspaceRepository }) {}

  /** Validates and counts; a refused request keeps the user's minute free. */
  request(userId: number, req: BundleExportRequest, origin?: { scheduleId: string }): Promise<JobCreatedResponse> {
    return this.d.lifecycle.create(this, userId, () => this.plan(userId, req, origin)).catch(tooFrequent('bundle export'));
  }

  private async plan(userId: number, p: BundleExportRequest, origin?: { scheduleId: string }): Promise<JobPlan> {
    const tables = await this.select(userId, p.tables);
    const where = await this.checkWhere(p.where, tables);
    const includeRows = p.include_rows ?? true;
    await this.d.lifecycle.checkMinute(this, userId);
    let expected = 0;
    if (includeRows) {
      const cap = this.d.config.exportMaxRows;
      for (const t of tables) {
        const n = await this.d.rows.countUpTo(t.id, { where: where?.[t.name] }, cap, t.schema.fields);
        if (n > cap) throw new TooManyRowsError(cap, undefined, `The rows of table "${t.name}"`);
        expected += n;
      }
    }
    const params: BundleExportParams = {
      tables: tables.map((t) => t.name),
      include_rows: includeRows,
      compression: p.compression ?? 'none',
      expected_rows: expected,
    };
    if (where) params.where = where;
    return {
      minute: userId,
      row: {
        table_id: null,
        table_name: bundleLabel(params.tables),
        // The job row keeps a bundle's own parameters (jsonb); the repository's type names the table jobs' ones.
        params: params as unknown as NewJob['params'],
        file_type: 'json',
        file_name: bundleFileName(dateOf(this.d.clock), params.compression),
        schedule_id: origin?.scheduleId ?? null,
      },
    };
  }

  /** eKuiper's download: the bundle itself, for schemas only or at most BUNDLE_DOWNLOAD_MAX_ROWS rows. */
  async download(userId: number, p: BundleDownloadQuery): Promise<{ fileName: string; gzip: boolean; stream: Readable }> {
    const tables = await this.select(userId, p.tables);
    const includeRows = p.include_rows ?? true;
    if (includeRows) {
      const n = await this.d.workspace.countUpTo(
        tables.map((t) => t.id),
        BUNDLE_DOWNLOAD_MAX_ROWS,
      );
      if (n > BUNDLE_DOWNLOAD_MAX_ROWS) {
        throw new TooManyRowsError(
          BUNDLE_DOWNLOAD_MAX_ROWS,
          undefined,
          'The rows of the selected tables (download them with POST /oserve/v1/data/export/, or pass include_rows=false)',
        );
      }
    }
    const gzip = p.compression === 'gzip';
    const { stream } = createBundleWriter(this.sources(tables, includeRows, undefined), {
      exportedAt: unixSeconds(this.d.clock),
      gzip,
    });
    return { fileName: bundleFileName(dateOf(this.d.clock), gzip ? 'gzip' : 'none'), gzip, stream };
  }

  /** The job's work: streams every table from COPY into the stored bundle. */
  async run(ctx: JobRunContext): Promise<JobResult> {
    const { job } = ctx;
    const params = job.params as unknown as BundleExportParams;
    const byName = new Map((await this.d.workspace.list(job.user_id)).map((t) => [t.name, t]));
    const tables = params.tables.map((name) => {
      const t = byName.get(name);
      if (!t) throw new AppError('table_deleted', 410, `Table "${name}" was deleted before the bundle export ran.`);
      return t;
    });
    const report = progressReporter(this.d.jobs, job.id, params.expected_rows);
    const fileName = job.file_name ?? bundleFileName(job.created_at, params.compression);
    const key = exportFileKey(job.id, fileName);
    const { stream, stats } = createBundleWriter(this.sources(tables, params.include_rows, params.where), {
      exportedAt: Math.floor(job.created_at.getTime() / 1000),
      gzip: params.compression === 'gzip',
      maxRows: this.d.config.exportMaxRows * Math.max(1, tables.length),
      onRows: report,
    });
    ctx.signal.addEventListener('abort', () => stream.destroy(new Error('The worker is shutting down.')), { once: true });
    await this.d.storage.put(key, stream, { signal: ctx.signal });
    return { rows: stats.rows, file_key: key, file_name: fileName };
  }

  /** The caller's tables by name (all, in creation order, when `names` is not given). */
  private async select(userId: number, names: string[] | undefined): Promise<TableRecord[]> {
    const all = await this.d.workspace.list(userId);
    if (names === undefined || names.length === 0) return all;
    const byName = new Map(all.map((t) => [t.name, t]));
    const seen = new Set<string>();
    return names.map((n) => {
      const t = byName.get(n);
      if (!t) throw new InvalidParameterError('tables', `You have no table named "${n.slice(0, 64)}".`);
      if (seen.has(n)) throw new InvalidParameterError('tables', `The table "${n}" is named twice.`);
      seen.add(n);
      return t;
    });
  }

  /** Each table's MinApp `where`, compiled once here so a mistake is a 400 naming `where.<table>...`. */
  private async checkWhere(
    where: Record<string, Record<string, unknown>> | undefined,
    tables: TableRecord[],
  ): Promise<BundleExportParams['where']> {
    if (!where || Object.keys(where).length === 0) return undefined;
    const byName = new Map(tables.map((t) => [t.name, t]));
    const regexes: string[] = [];
    for (const [name, w] of Object.entries(where)) {
      const t = byName.get(name);
      if (!t) throw new InvalidParameterError(`where.${name}`, `"where" names the table "${name}", which is not in the bundle.`);
      regexes.push(...compileWhere(w, t.schema.fields, parameterBinder(), `where.${name}`, this.d.limits).regexes);
    }
    await this.d.rows.checkRegexes(regexes);
    return where;
  }

  private sources(tables: TableRecord[], includeRows: boolean, where: BundleExportParams['where']): BundleTableSource[] {
    return tables.map((t) => {
      const source: BundleTableSource = { name: t.name, schema: t.schema };
      if (includeRows) source.openRows = () => this.d.rows.copyOut(t.id, t.schema.fields, 'json', { where: where?.[t.name] });
      return source;
    });
  }
}

/** `bundle_20260121_093000.json` (`.json.gz` compressed): the moment it was asked for, in UTC. */
export function bundleFileName(at: Date, compression: Compression): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  return `bundle_${stamp}.json${compression === 'gzip' ? '.gz' : ''}`;
}

/** What a bundle job shows where other jobs show their table's name. */
export function bundleLabel(tables: string[]): string {
  const shown = tables.slice(0, 5).join(', ');
  const more = tables.length > 5 ? ` and ${tables.length - 5} more` : '';
  return tables.length ? `bundle of ${tables.length} table${tables.length === 1 ? '' : 's'} (${shown}${more})` : 'empty bundle';
}
