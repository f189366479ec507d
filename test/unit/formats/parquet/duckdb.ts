/** DuckDB (an independent Parquet implementation, C++) for the interop tests: one in-memory database per file. */
import { after } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export function duckdb(): () => Promise<DuckDBConnection> {
  let con: DuckDBConnection | undefined;
  after(() => con?.closeSync());
  return async () => {
    if (!con) con = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
    return con;
  };
}

/** A single-quoted SQL string literal. */
export function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export async function query(con: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}
