/**
 * `POST /oserve/v1/sql`: CnosDB's `COPY INTO` statements. A statement is parsed and planned into
 * the REST tasks' parameters and handed to the same export and import services the REST endpoints
 * use, so the minute, the row cap, all-or-nothing imports, sealing of credentials and the email are
 * one mechanism whichever way a task comes in. Tables are named by name.
 */
import { ExportRequestSchema } from '../contracts/exports.js';
import { parseSourceImport } from '../contracts/imports.js';
import { parseRequest } from '../contracts/parse.js';
import type { SqlRequest } from '../contracts/sql.js';
import { InvalidParameterError } from '../errors.js';
import type { Kinds } from '../jobs/kinds/index.js';
import { parseCopyInto, planCopy, type CopyExportPlan, type CopyImportPlan } from '../sql/index.js';
import type { JobCreatedResponse } from '../types/api.js';
import type { TablesService } from './tables/tables.service.js';

export interface SqlDeps {
  tables: TablesService;
  kinds: Pick<Kinds, 'export' | 'import'>;
}

export class SqlService {
  constructor(private readonly d: SqlDeps) {}

  async run(userId: number, { sql }: SqlRequest): Promise<JobCreatedResponse & { table_id?: number }> {
    const plan = planCopy(parseCopyInto(sql));
    return plan.kind === 'export' ? this.export(userId, plan) : this.import(userId, plan);
  }

  private async export(userId: number, plan: CopyExportPlan): Promise<JobCreatedResponse> {
    const table = await this.d.tables.requireByName(userId, plan.tableName);
    // The statement's parameters are the export endpoint's body, checked as the endpoint checks it.
    return this.d.kinds.export.request(userId, String(table.id), parseRequest(ExportRequestSchema, exportBody(plan)));
  }

  private async import(userId: number, plan: CopyImportPlan): Promise<JobCreatedResponse & { table_id?: number }> {
    const req = parseSourceImport(importBody(plan));
    if (plan.auto_infer_schema === true) {
      // CnosDB's auto_infer_schema: a table that does not exist yet is made from the (first) file.
      const existing = await this.d.tables.findByName(userId, plan.tableName);
      if (!existing) return this.d.kinds.import.newTableFromSource(userId, plan.tableName, req);
      return this.d.kinds.import.fromSource(userId, String(existing.id), req);
    }
    const table = await this.d.tables.requireByName(userId, plan.tableName);
    return this.d.kinds.import.fromSource(userId, String(table.id), req);
  }
}

/**
 * CnosDB's COPY INTO takes a path whose last part has no file extension as a folder
 * (`'s3://tmp/air'` is where the files of table air go, and where an import reads them back),
 * so such a path gets the '/' that makes it one here. http(s) URLs name one file as written.
 */
export function copyLocation(url: string): string {
  if (/^https?:/i.test(url) || url.endsWith('/')) return url;
  const last = url.slice(url.lastIndexOf('/') + 1);
  return last.includes('.') ? url : `${url}/`;
}

/** The export endpoint's body for a plan: every row (CnosDB's COPY has no selection). */
export function exportBody(plan: CopyExportPlan): Record<string, unknown> {
  return {
    file_type: plan.file_type,
    mode: 'all',
    destination: copyLocation(plan.destination),
    connection: plan.connection,
    ...(plan.csv_delimiter !== undefined ? { csv_delimiter: plan.csv_delimiter } : {}),
    ...(plan.csv_header !== undefined ? { csv_header: plan.csv_header } : {}),
  };
}

/** The import endpoint's JSON body for a plan. */
export function importBody(plan: CopyImportPlan): Record<string, unknown> {
  if (plan.columns && plan.csv_header !== false) {
    // CnosDB's column list names the file's columns; with a header line the header already does.
    throw new InvalidParameterError(
      'sql',
      'A column list after the table name needs FILE_FORMAT = (WITH_HEADER = false): with a header line, the header names the columns.',
    );
  }
  return {
    source: copyLocation(plan.source),
    connection: plan.connection,
    ...(plan.file_type !== undefined ? { file_type: plan.file_type } : {}),
    ...(plan.csv_delimiter !== undefined ? { csv_delimiter: plan.csv_delimiter } : {}),
    ...(plan.csv_header !== undefined ? { csv_header: plan.csv_header } : {}),
    ...(plan.columns ? { columns: plan.columns.join(',') } : {}),
  };
}
