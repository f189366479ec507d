/** Helpers for the bundle tests: feed bytes in chosen chunks, collect a reader's events. */
import { Readable } from 'node:stream';
import { readBundle, type BundleEvent, type BundleReaderOptions, type BundleRow } from '../../../src/bundles/index.js';
import type { TableSchema } from '../../../src/types/api.js';

/** Bytes as a stream of `size`-byte chunks (Infinity: one chunk). */
export function bytes(input: string | Buffer, size = Number.POSITIVE_INFINITY): Readable {
  const buf = typeof input === 'string' ? Buffer.from(input) : input;
  const chunks: Buffer[] = [];
  if (size === Number.POSITIVE_INFINITY) chunks.push(buf);
  else for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  return Readable.from(chunks, { objectMode: false });
}

export interface ReadTable {
  schema: TableSchema;
  line: number;
  rows: BundleRow[];
  ended?: number;
}

export interface ReadResult {
  tables: Map<string, ReadTable>;
  order: string[];
  events: BundleEvent[];
  error?: Error;
}

/** Every event of a bundle, grouped by table, with the error that stopped it, if any. */
export async function readAll(source: Readable, opts: BundleReaderOptions = {}): Promise<ReadResult> {
  const out: ReadResult = { tables: new Map(), order: [], events: [] };
  try {
    for await (const e of readBundle(source, opts)) {
      out.events.push(e);
      if (e.kind === 'table') {
        out.tables.set(e.name, { schema: e.schema, line: e.line, rows: [] });
        out.order.push(e.name);
      } else if (e.kind === 'rows') out.tables.get(e.table)?.rows.push(...e.rows);
      else if (e.kind === 'table_end') {
        const t = out.tables.get(e.name);
        if (t) t.ended = e.rows;
      }
    }
  } catch (err) {
    out.error = err as Error;
  }
  return out;
}

export const SCHEMA: TableSchema = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
    { name: 'tags', type: 'array' },
  ],
};
