/** Helpers for the format tests: feed bytes in chosen chunks, collect output and errors. */
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { FieldSchema } from '../../../src/types/api.js';
import { createImportEncoder, type ImportEncoderOptions, type ImportFileOptions } from '../../../src/formats/index.js';

export const FIELDS: FieldSchema[] = [
  { name: 'title', type: 'string' },
  { name: 'qty', type: 'integer' },
  { name: 'price', type: 'number' },
  { name: 'ok', type: 'boolean' },
  { name: 'at', type: 'date' },
  { name: 'tags', type: 'array' },
  { name: 'meta', type: 'object' },
];

/** Splits bytes into chunks: a number is a chunk size, an array gives cut positions. */
export function chunked(input: string | Buffer, cut: number | number[] = Number.POSITIVE_INFINITY): Buffer[] {
  const buf = typeof input === 'string' ? Buffer.from(input) : input;
  const out: Buffer[] = [];
  if (Array.isArray(cut)) {
    let from = 0;
    for (const at of [...cut, buf.length]) {
      out.push(buf.subarray(from, at));
      from = at;
    }
    return out.filter((b) => b.length > 0);
  }
  if (cut === Number.POSITIVE_INFINITY) return [buf];
  for (let i = 0; i < buf.length; i += cut) out.push(buf.subarray(i, i + cut));
  return out;
}

export interface TransformResult {
  out: Buffer;
  chunks: Buffer[];
  error?: Error;
}

/** Pushes the chunks through the transform (one write each) and collects what comes out. */
export async function through(t: Transform, chunks: Buffer[]): Promise<TransformResult> {
  const got: Buffer[] = [];
  let error: Error | undefined;
  try {
    await pipeline(
      Readable.from(chunks, { objectMode: false }),
      t,
      new Writable({
        write(c: Buffer, _e, cb) {
          got.push(c);
          cb();
        },
      }),
    );
  } catch (err) {
    error = err as Error;
  }
  return error ? { out: Buffer.concat(got), chunks: got, error } : { out: Buffer.concat(got), chunks: got };
}

export interface ImportResult {
  out: string;
  rows: number;
  errors: { line?: number; field?: string; error_code: string; error_msg: string }[];
  errorCount: number;
  error?: Error;
  progress: number[];
}

export function defaults() {
  let n = 0;
  return { createdAt: 1700000000, createdBy: 'user-1', newId: () => `new${++n}` };
}

export async function runImport(
  format: 'csv' | 'json' | 'ndjson',
  input: string | Buffer | Buffer[],
  opts: Partial<ImportEncoderOptions & ImportFileOptions> & { cut?: number | number[] } = {},
): Promise<ImportResult> {
  const progress: number[] = [];
  const enc = createImportEncoder(format, {
    fields: FIELDS,
    defaults: defaults(),
    maxRows: 1000,
    onRows: (n: number) => progress.push(n),
    ...opts,
  });
  const chunks = Array.isArray(input) ? input : chunked(input, opts.cut);
  const r = await through(enc, chunks);
  const res: ImportResult = {
    out: r.out.toString('utf8'),
    rows: enc.rows,
    errors: enc.errors,
    errorCount: enc.errorCount,
    progress,
  };
  if (r.error) res.error = r.error;
  return res;
}

/** One COPY line as the encoder writes it for a row with default built-ins. */
export function copyLine(id: string, cells: string[], createdAt = 1700000000, createdBy = 'user-1'): string {
  return `${[id, String(createdAt), String(createdAt), createdBy, ...cells].join('\t')}\n`;
}
