/**
 * SQL export: one `INSERT INTO "<table>" (...) VALUES (...);` statement per row, which `psql` runs
 * into a table of the same shape, written from PostgreSQL's CSV of the selection as it streams
 * (copy-csv-rewrite.ts): no row becomes an object. Literals are standard SQL strings (only `'` is
 * doubled); the file first sets `standard_conforming_strings`, so a backslash is a backslash
 * whatever the server's setting. Values PostgreSQL types by context (jsonb, timestamptz) are plain
 * literals; numbers are PostgreSQL's own text of them (64-bit integers exact), NaN and ±Infinity
 * quoted; booleans TRUE and FALSE; NULL as NULL.
 */
import { BOOL, CopyCsvRewriter, NUMBER, TEXT } from './copy-csv-rewrite.js';
import type { ExportColumn } from './format.js';

export function quoteSqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A value as an SQL literal (the writer's rules, for values at hand rather than PostgreSQL's CSV). */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : `'${String(v)}'`;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return `'${s.replaceAll("'", "''")}'`;
}

const SQL_ESCAPES: Buffer[] = Array.from({ length: 256 }, (_, b) => (b === 0x27 ? Buffer.from("''") : Buffer.alloc(0)));
const PREAMBLE = Buffer.from('SET standard_conforming_strings = on;\n');

export interface SqlExportWriterOptions {
  tableName: string;
  columns: readonly ExportColumn[];
}

/** PostgreSQL's CSV of the export's SELECT (no header) in, the SQL file out. */
export class SqlExportWriter extends CopyCsvRewriter {
  private started = false;

  constructor(opts: SqlExportWriterOptions) {
    const head = `INSERT INTO ${quoteSqlIdent(opts.tableName)} (${opts.columns.map((c) => quoteSqlIdent(c.name)).join(', ')}) VALUES (`;
    super({
      prefixes: opts.columns.map((_, i) => Buffer.from(i === 0 ? head : ', ')),
      kinds: opts.columns.map((c) => (c.type === 'boolean' ? BOOL : c.type === 'number' || c.type === 'integer' ? NUMBER : TEXT)),
      quote: 0x27,
      escapes: SQL_ESCAPES,
      null: Buffer.from('NULL'),
      rowEnd: Buffer.from(');\n'),
      true: Buffer.from('TRUE'),
      false: Buffer.from('FALSE'),
      // Each row repeats the statement's head: the file is about 2.5 times the CSV.
      growth: 3,
    });
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (!this.started && chunk !== null) {
      this.started = true;
      super.push(PREAMBLE);
    }
    return super.push(chunk, encoding);
  }

  override _flush(cb: (err?: Error | null, data?: unknown) => void): void {
    // A file of no rows still sets the option, as before.
    if (!this.started) {
      this.started = true;
      super.push(PREAMBLE);
    }
    super._flush(cb);
  }
}

export function createSqlExportWriter(opts: SqlExportWriterOptions): SqlExportWriter {
  return new SqlExportWriter(opts);
}
