/**
 * Writes a bundle as a byte stream from a sequence of tables whose rows arrive as bytes of one
 * JSON object per line (the export COPY of `row_to_json`). Rows pass through as bytes: each line
 * becomes an array element by putting `,\n` between lines, so no row is parsed and no table is
 * held in memory. Tables are opened one at a time, when the reader of the bundle gets to them,
 * so at most one COPY (one pooled connection) is open; backpressure comes from the pull.
 */
import { Readable, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import { TooManyRowsError } from '../errors.js';
import type { TableSchema } from '../types/api.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION } from './bundle-format.js';

export interface BundleTableSource {
  name: string;
  schema: TableSchema;
  /** Opens the table's rows (one JSON object per line); without it the table's `rows` is `[]`. */
  openRows?: () => Promise<Readable>;
}

export interface BundleWriterOptions {
  /** Unix seconds written as `exported_at`. */
  exportedAt: number;
  gzip?: boolean;
  /** More rows than this, over all tables, fail the stream with TooManyRowsError. */
  maxRows?: number;
  /** Progress, with the rows written so far (about once per chunk of COPY output). */
  onRows?: (rows: number) => void;
}

export interface BundleStats {
  tables: number;
  rows: number;
}

const LF = 0x0a;
const FIRST_SEP = Buffer.from('\n');
const NEXT_SEP = Buffer.from(',\n');

/**
 * The bundle's bytes, and counts that are final once the stream has ended. Destroying the stream
 * ends the table being read (its COPY is cancelled and its connection dropped, not reused).
 */
export function createBundleWriter(
  tables: Iterable<BundleTableSource> | AsyncIterable<BundleTableSource>,
  opts: BundleWriterOptions,
): { stream: Readable; stats: BundleStats } {
  const stats: BundleStats = { tables: 0, rows: 0 };
  const maxRows = opts.maxRows ?? Number.MAX_SAFE_INTEGER;

  async function* generate(): AsyncGenerator<Buffer> {
    const head = `{"format":${JSON.stringify(BUNDLE_FORMAT)},"version":${BUNDLE_VERSION},"exported_at":${Math.floor(opts.exportedAt)},"tables":{`;
    yield Buffer.from(head);
    for await (const t of tables) {
      const sep = stats.tables++ === 0 ? '\n' : ',\n';
      yield Buffer.from(`${sep}${JSON.stringify(t.name)}:{"schema":${JSON.stringify(t.schema)},"rows":[`);
      let tableRows = 0;
      if (t.openRows) {
        const lines = new LineJoiner();
        for await (const chunk of await t.openRows()) {
          const out = lines.push(chunk as Buffer);
          tableRows += lines.started;
          stats.rows += lines.started;
          if (stats.rows > maxRows) throw new TooManyRowsError(maxRows, undefined, "The bundle's rows");
          if (out.length) yield out;
          opts.onRows?.(stats.rows);
        }
      }
      yield Buffer.from(tableRows ? '\n]}' : ']}');
    }
    yield Buffer.from(stats.tables ? '\n}}\n' : '}}\n');
  }

  const body = Readable.from(generate(), { objectMode: false });
  if (!opts.gzip) return { stream: body, stats };
  const gzip = createGzip();
  // pipeline() hands an error or an early destroy both ways: the consumer sees a failed COPY, and
  // a consumer that gives up stops the generator (and its COPY).
  pipeline(body, gzip, () => undefined);
  return { stream: gzip, stats };
}

/**
 * Turns lines (`{...}\n{...}\n`) into array elements (`\n{...},\n{...}`): a separator before each
 * row instead of a line break after it. Works on bytes; a line may be cut anywhere between chunks.
 */
class LineJoiner {
  /** Rows seen so far. */
  private rows = 0;
  private inRow = false;
  /** Rows started by the last `push`. */
  started = 0;

  push(chunk: Buffer): Buffer {
    this.started = 0;
    let breaks = 0;
    for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, at + 1)) breaks++;
    const out = Buffer.allocUnsafe(chunk.length + 2 * (breaks + 1));
    let o = 0;
    let from = 0;
    while (from <= chunk.length) {
      const to = chunk.indexOf(LF, from);
      const end = to === -1 ? chunk.length : to;
      if (end > from) {
        if (!this.inRow) {
          o += (this.rows++ === 0 ? FIRST_SEP : NEXT_SEP).copy(out, o);
          this.started++;
          this.inRow = true;
        }
        o += chunk.copy(out, o, from, end);
      }
      if (to === -1) break;
      this.inRow = false;
      from = to + 1;
    }
    return out.subarray(0, o);
  }
}
