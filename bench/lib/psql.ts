/**
 * The yardstick: the same work done by `psql \copy`, timed around the psql process, as a person
 * would at a shell. The export SQL is the service's own (`exportCopySql`), so both read the same
 * selection in the same order and write the same bytes.
 */
import { spawn } from 'node:child_process';
import type { Binder } from '../../src/db/query/index.js';
import { exportCopySql, copyColumns, dataTable, type ExportSelection } from '../../src/db/table-sql.js';
import type { FieldSchema } from '../../src/types/api.js';

export interface PsqlOptions {
  /** Run this file (in one transaction) rather than the command. */
  file?: string;
  /** `search_path` of psql's session. */
  searchPath?: string;
}

export async function psql(databaseUrl: string, command: string, timeoutMs: number, opts: PsqlOptions = {}): Promise<number> {
  const t0 = performance.now();
  const what = opts.file ? ['--single-transaction', '-f', opts.file] : ['-c', command];
  const env = opts.searchPath ? { ...process.env, PGOPTIONS: `-c search_path=${opts.searchPath}` } : process.env;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl, ...what], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `psql ${signal ? `killed (${signal}, over ${timeoutMs / 1000} s)` : `exited ${code}`}: ${err.trim()}\n  ${opts.file ?? command.slice(0, 200)}`,
          ),
        );
    });
  });
  return (performance.now() - t0) / 1000;
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** `\copy` of a CSV file in the export shape into the table (all its columns, header skipped). */
export function copyFromCsv(tableId: number, fields: FieldSchema[], path: string): string {
  return `\\copy ${dataTable(tableId)} (${copyColumns(fields)}) FROM ${quoteLiteral(path)} WITH (FORMAT csv, HEADER true)`;
}

/**
 * Values written into the SQL as literals: what a person would type at psql. Only the benchmark's
 * own values go through it; the service binds them.
 */
function literalBinder(): Binder {
  const values: string[] = [];
  return {
    values,
    bind(text, cast) {
      values.push(text);
      return `${quoteLiteral(text)}::${cast}`;
    },
  };
}

/** The worker's LIMIT: EXPORT_MAX_ROWS (default 1,000,000) + 1, so psql runs the very same SELECT. */
export const SERVICE_EXPORT_LIMIT = 1_000_001;

/** The service's export COPY, as `\copy … TO` a file (a `where`'s values as literals). */
export function copyExportTo(tableId: number, fields: FieldSchema[], fileType: 'csv' | 'json', w: ExportSelection, path: string): string {
  const sql = exportCopySql(tableId, fields, fileType, w, undefined, literalBinder(), SERVICE_EXPORT_LIMIT);
  if (!sql.startsWith('COPY (') || !sql.includes(') TO STDOUT WITH')) throw new Error(`unexpected export SQL: ${sql}`);
  const i = sql.lastIndexOf(') TO STDOUT WITH');
  // \copy takes one line.
  return `\\copy ${sql.slice(5, i + 1).replace(/\s+/g, ' ')} TO ${quoteLiteral(path)} WITH${sql.slice(i + ') TO STDOUT WITH'.length)}`;
}
