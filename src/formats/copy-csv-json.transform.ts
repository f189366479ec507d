/**
 * Export: PostgreSQL's CSV of an export's SELECT rewritten as the very lines `COPY (SELECT
 * row_to_json(r) …)` writes, byte for byte: one JSON object per row and line, keys in column order
 * (copy-csv-rewrite.ts). PostgreSQL's CSV writer is about twice as fast as its row_to_json.
 *
 * Values by column type, as row_to_json writes them:
 * - `string` and `date` (ISO text from to_char): a JSON string, escaped as PostgreSQL's escape_json
 *   does (`"` `\` and the control characters; \b \f \n \r \t by name, the others as \u00xx);
 * - `integer` and `number`: the text as it is (float8out's shortest form in both), except NaN and
 *   ±Infinity, which row_to_json writes as strings;
 * - `boolean` (`true`/`false` from ::text), `array` and `object` (jsonb's text): as they are;
 * - NULL (an empty unquoted field; an empty string is `""`): `null`.
 */
import { CopyCsvRewriter, NUMBER, RAW, TEXT } from './copy-csv-rewrite.js';
import type { ExportColumn } from './format.js';

/** The JSON escape of each byte below 0x20, and of `"` and `\`; empty for bytes copied as they are. */
const JSON_ESCAPES: Buffer[] = Array.from({ length: 256 }, (_, b) => {
  if (b === 0x22) return Buffer.from('\\"');
  if (b === 0x5c) return Buffer.from('\\\\');
  if (b >= 0x20) return Buffer.alloc(0);
  const named: Record<number, string> = { 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t' };
  return Buffer.from(named[b] ?? `\\u${b.toString(16).padStart(4, '0')}`);
});

export interface CopyCsvToJsonOptions {
  /** The SELECT's columns, in order. */
  columns: readonly ExportColumn[];
  onRows?: (rows: number) => void;
}

export class CopyCsvToJsonLines extends CopyCsvRewriter {
  constructor(opts: CopyCsvToJsonOptions) {
    super({
      prefixes: opts.columns.map((c, i) => Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(c.name)}:`)),
      kinds: opts.columns.map((c) =>
        c.type === 'string' || c.type === 'date' ? TEXT : c.type === 'number' || c.type === 'integer' ? NUMBER : RAW,
      ),
      quote: 0x22,
      escapes: JSON_ESCAPES,
      null: Buffer.from('null'),
      rowEnd: Buffer.from('}\n'),
      ...(opts.onRows ? { onRows: opts.onRows } : {}),
    });
  }
}
