/**
 * SQL export: one `INSERT INTO "<table>" (...) VALUES (...);` statement per row, which `psql` runs
 * into a table of the same shape. Literals are standard SQL strings (only `'` is doubled); the
 * file first sets `standard_conforming_strings`, so a backslash is a backslash whatever the
 * server's setting. Values PostgreSQL types by context (jsonb, timestamptz) are plain literals.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { RowWriterOptions } from './format.js';

const BATCH_CHARS = 64 * 1024;

export function quoteSqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return `'${s.replaceAll("'", "''")}'`;
}

export function createSqlExportWriter(opts: RowWriterOptions): Transform {
  const names = opts.columns.map((c) => c.name);
  const head = `INSERT INTO ${quoteSqlIdent(opts.tableName)} (${names.map(quoteSqlIdent).join(', ')}) VALUES (`;
  let out = 'SET standard_conforming_strings = on;\n';
  return new Transform({
    writableObjectMode: true,
    transform(row: Record<string, unknown>, _enc: BufferEncoding, cb: TransformCallback) {
      let line = head;
      for (let i = 0; i < names.length; i++) line += (i ? ', ' : '') + sqlLiteral(row[names[i] as string]);
      out += `${line});\n`;
      if (out.length >= BATCH_CHARS) {
        const chunk = out;
        out = '';
        return cb(null, chunk);
      }
      cb();
    },
    flush(cb: TransformCallback) {
      cb(null, out);
    },
  });
}
