/**
 * Bundles in the SDK: a whole workspace (several tables, schemas and rows) out as one file and in
 * as one all-or-nothing job. See docs/bundles.md.
 */
import { Readable } from 'node:stream';
import type { BundleImportMode, BundleImportStatus, JobCreatedResponse } from '../types/api.js';
import { InvalidArgumentError } from './errors.js';
import { JobHandle } from './job.js';
import type { Transport } from './transport.js';
import { buildUpload, type ImportSource } from './upload.js';

/** Options of {@link TablePort.exportBundle}. */
export interface BundleExportOptions {
  /** Table names; default every table of yours. */
  tables?: string[];
  /** `false`: schemas only (default true). */
  includeRows?: boolean;
  /** A MinApp `where` per table name, where the server supports it. */
  where?: Record<string, Record<string, unknown>>;
  /** Compress the bundle (its name gains `.gz`). */
  gzip?: boolean;
}

/** Options of {@link TablePort.downloadBundle}. */
export type BundleDownloadOptions = Omit<BundleExportOptions, 'where'>;

/** Options of {@link TablePort.importBundle}. */
export interface BundleImportOptions {
  /**
   * `reset` (default): your workspace becomes exactly the bundle; `replace`: only the bundle's
   * tables are recreated; `merge`: missing tables are created, rows appended to tables with the same fields.
   */
  mode?: BundleImportMode;
  /** Import bundle tables under other names: `{ old: 'new' }`. */
  rename?: Record<string, string>;
  /** The upload's file name (default `bundle.json`). */
  filename?: string;
}

/**
 * Where a bundle comes from: anything an import reads (a path, a Buffer, a Blob, a stream), or the
 * bundle's text (`{ content }`), a `file:///` URL under the server's IMPORT_DIR (`{ file }`), or a
 * location the server reads itself (`{ source, connection }`).
 */
export type BundleSource = ImportSource | { content: string } | { file: string } | { source: string; connection?: Record<string, unknown> };

/** @internal */
export async function exportBundle(t: Transport, options: BundleExportOptions): Promise<JobHandle> {
  const body: Record<string, unknown> = {};
  if (options.tables) body.tables = options.tables;
  if (options.includeRows !== undefined) body.include_rows = options.includeRows;
  if (options.where) body.where = options.where;
  if (options.gzip) body.compression = 'gzip';
  const res = await t.json<JobCreatedResponse>('POST', '/data/export/', { json: body });
  return new JobHandle(t, res.job_id);
}

/** @internal */
export async function downloadBundle(t: Transport, options: BundleDownloadOptions): Promise<Readable> {
  const query: Record<string, string | undefined> = {
    tables: options.tables?.join(','),
    include_rows: options.includeRows === undefined ? undefined : String(options.includeRows),
    compression: options.gzip ? 'gzip' : undefined,
  };
  const res = await t.raw('GET', t.url('/data/export/', query), { noTimeout: true, headers: { accept: '*/*' } });
  if (!res.body) throw new InvalidArgumentError('The server sent no bundle.');
  return Readable.fromWeb(res.body as never);
}

/** @internal */
export async function importBundle(t: Transport, source: BundleSource, options: BundleImportOptions): Promise<JobHandle> {
  const query = new URLSearchParams();
  if (options.mode) query.set('mode', options.mode);
  if (options.rename && Object.keys(options.rename).length) query.set('rename', JSON.stringify(options.rename));
  const path = `/data/import/${query.size ? `?${query.toString()}` : ''}`;
  let res: JobCreatedResponse;
  if (isDescriptor(source)) {
    res = await t.json<JobCreatedResponse>('POST', path, { json: source });
  } else {
    const filename = options.filename ?? defaultName(source);
    const upload = await buildUpload(
      source,
      filename === undefined ? { contentType: 'application/json' } : { filename, contentType: 'application/json' },
    );
    res = await t.upload<JobCreatedResponse>(path, upload);
  }
  return new JobHandle(t, res.job_id);
}

/** @internal */
export function importStatus(t: Transport): Promise<BundleImportStatus> {
  return t.json<BundleImportStatus>('GET', '/data/import/status/');
}

function isDescriptor(s: BundleSource): s is { content: string } | { file: string } | { source: string } {
  if (
    typeof s !== 'object' ||
    s === null ||
    s instanceof URL ||
    s instanceof Uint8Array ||
    s instanceof Blob ||
    s instanceof ReadableStream
  )
    return false;
  if (typeof (s as { pipe?: unknown }).pipe === 'function') return false;
  return 'content' in s || 'file' in s || 'source' in s;
}

/** A path keeps its own name; anything else is `bundle.json`. */
function defaultName(s: ImportSource): string | undefined {
  return typeof s === 'string' || s instanceof URL ? undefined : 'bundle.json';
}
