/**
 * Rows given as objects (from a Parquet or xlsx reader) → COPY text, with the same validation as
 * every other import. Readers give native JS types; these are first brought to the JSON shape the
 * row plan checks: a Date becomes ISO 8601 text, a bigint a number when it is exact, JSON text in
 * an array or object column is parsed. A number or boolean in a text column becomes its text by
 * the file rules every import follows (`convertFileValue`).
 */
import type { TransformCallback } from 'node:stream';
import { BUILTIN_FIELD_TYPES, type FieldSchema } from '../types/api.js';
import type { ImportedRow } from './format.js';
import { ImportEncoder, type ImportEncoderOptions } from './import-encoder.js';

export class ObjectImportEncoder extends ImportEncoder {
  private readonly types: Map<string, FieldSchema['type']>;

  constructor(opts: ImportEncoderOptions) {
    super(opts, { writableObjectMode: true });
    this.types = new Map([...Object.entries(BUILTIN_FIELD_TYPES), ...opts.fields.map((f) => [f.name, f.type] as const)]);
  }

  override _transform(chunk: unknown, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      const { row, line } = chunk as ImportedRow;
      this.addObject(this.normalize(row), line);
      if (this.records % 1000 === 0) this.onRowsNow();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  protected consume(): void {}
  protected finish(): void {}

  private normalize(row: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key in row) out[key] = foreignValue(row[key], this.types.get(this.fieldOf(key) ?? key));
    return out;
  }
}

/** One value from a typed file brought to the JSON shape of its column's type. */
export function foreignValue(v: unknown, type: FieldSchema['type'] | undefined): unknown {
  if (v === undefined || v === null) return null;
  if (v instanceof Date)
    return Number.isNaN(v.getTime()) ? String(v) : type === 'integer' ? Math.floor(v.getTime() / 1000) : v.toISOString();
  if (typeof v === 'bigint') {
    const n = Number(v);
    if (type === 'string') return v.toString();
    return Number.isSafeInteger(n) ? n : v.toString();
  }
  if ((type === 'array' || type === 'object') && typeof v === 'string') {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}
