/**
 * A parsed COPY INTO statement as the REST tasks' parameters (the names of shared/API.md), so
 * `POST /oserve/v1/sql` can hand it to the same export and import services as the REST endpoints:
 * one set of rules (minute, cap, all-or-nothing, email) for both ways in.
 */
import type { CopyFileType, CopyStatement } from './copy-into.ast.js';

export interface CopyExportPlan {
  kind: 'export';
  /** By name, as CnosDB names tables; the caller looks it up among the user's tables. */
  tableName: string;
  database?: string;
  destination: string;
  connection: Record<string, string | boolean>;
  file_type: CopyFileType;
  csv_delimiter?: string;
  csv_header?: boolean;
}

export interface CopyImportPlan {
  kind: 'import';
  tableName: string;
  database?: string;
  source: string;
  connection: Record<string, string | boolean>;
  /** Absent: read from the content, as uploads are. */
  file_type?: CopyFileType;
  csv_delimiter?: string;
  csv_header?: boolean;
  columns?: string[];
  /** CnosDB's auto_infer_schema: true adds the file's new columns to the table (or creates it). */
  auto_infer_schema?: boolean;
}

export type CopyPlan = CopyExportPlan | CopyImportPlan;

const EXTENSIONS: Record<string, CopyFileType> = { csv: 'csv', json: 'json', ndjson: 'ndjson', jsonl: 'ndjson', parquet: 'parquet' };

export function planCopy(stmt: CopyStatement): CopyPlan {
  const f = stmt.fileFormat;
  const csv = {
    ...(f.delimiter !== undefined ? { csv_delimiter: f.delimiter } : {}),
    ...(f.withHeader !== undefined ? { csv_header: f.withHeader } : {}),
  };
  const base = {
    tableName: stmt.table.name,
    ...(stmt.table.database !== undefined ? { database: stmt.table.database } : {}),
    connection: stmt.connection,
  };
  if (stmt.kind === 'export') {
    // Without TYPE, the file name's extension decides, then CSV (CnosDB's default).
    const ext = /\.([A-Za-z0-9]+)$/.exec(stmt.location.replace(/[?#].*$/, ''))?.[1]?.toLowerCase();
    const type = f.type ?? (ext ? EXTENSIONS[ext] : undefined) ?? 'csv';
    return { kind: 'export', ...base, destination: stmt.location, file_type: type, ...csv };
  }
  return {
    kind: 'import',
    ...base,
    source: stmt.location,
    ...(f.type !== undefined ? { file_type: f.type } : {}),
    ...csv,
    ...(stmt.table.columns ? { columns: stmt.table.columns } : {}),
    ...(stmt.copyOptions.autoInferSchema !== undefined ? { auto_infer_schema: stmt.copyOptions.autoInferSchema } : {}),
  };
}
