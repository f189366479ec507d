/**
 * Bundles (eKuiper's /data/export and /data/import): the export's selection and the import's
 * source, mode and renames, parsed at the HTTP edge.
 */
import { z } from 'zod';
import { IMPORT_MODES, type ImportMode } from '../bundles/index.js';
import { InvalidParameterError } from '../errors.js';
import { parseRequest } from './parse.js';
import { isTableName } from './tables.js';

const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);
const tableList = z.union([
  z.array(z.string().min(1).max(64)).max(1000),
  z
    .string()
    .max(70_000)
    .transform((s) =>
      s
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
]);

/** `POST /data/export/`: which tables (default all), with rows or schemas only, a MinApp `where` per table. */
export const BundleExportRequestSchema = z.object({
  tables: tableList.optional(),
  include_rows: flag.optional(),
  where: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  compression: z.enum(['none', 'gzip'], { error: 'must be "none" or "gzip"' }).optional(),
});
export type BundleExportRequest = z.infer<typeof BundleExportRequestSchema>;

/** `GET /data/export/` (eKuiper's download): the same selection, in the query, without `where`. */
export const BundleDownloadQuerySchema = BundleExportRequestSchema.omit({ where: true });
export type BundleDownloadQuery = z.infer<typeof BundleDownloadQuerySchema>;

const MODE = z.enum(IMPORT_MODES, { error: 'must be "reset", "replace" or "merge"' });

/** `POST /data/import/`: the bundle (an upload, `content`, `file` or `source`), the mode and renames. */
export const BundleImportBodySchema = z.object({
  mode: MODE.optional(),
  content: z.string().optional(),
  file: z.string().min(1).max(4096).optional(),
  source: z.string().min(1).max(4096).optional(),
  connection: z.record(z.string(), z.unknown(), { error: 'must be an object of options' }).optional(),
  rename: z.union([z.record(z.string(), z.string()), z.string().max(70_000)]).optional(),
});

export const BundleImportQuerySchema = z.object({ mode: MODE.optional(), rename: z.string().max(70_000).optional() });

/** A bundle import's request, with an upload or not. */
export interface BundleImportRequest {
  mode: ImportMode;
  rename: Record<string, string>;
  content?: string;
  /** A `file:///...` URL under IMPORT_DIR. */
  file?: string;
  source?: string;
  connection?: Record<string, unknown>;
}

/** The body and query of `POST /data/import/`: the query's mode and renames win over the body's. */
export function parseBundleImport(body: unknown, query: unknown): BundleImportRequest {
  const b = parseRequest(BundleImportBodySchema, body ?? {});
  const q = parseRequest(BundleImportQuerySchema, query ?? {}, 'query');
  const req: BundleImportRequest = { mode: q.mode ?? b.mode ?? 'reset', rename: parseRename(b.rename ?? q.rename) };
  if (b.content !== undefined) req.content = b.content;
  if (b.file !== undefined) req.file = b.file;
  if (b.source !== undefined) req.source = b.source;
  if (b.connection !== undefined) req.connection = b.connection;
  return req;
}

/**
 * `{"old": "new"}`, or as a form field its JSON text or `old=new,old2=new2` (the CLI's `--rename`).
 * Both names must be table names; two tables may not be renamed to one name.
 */
export function parseRename(raw: Record<string, string> | string | undefined): Record<string, string> {
  if (raw === undefined || raw === '') return {};
  let map: Record<string, unknown>;
  if (typeof raw === 'string') {
    const text = raw.trim();
    if (text.startsWith('{')) {
      try {
        map = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new InvalidParameterError('rename', '"rename" is not valid JSON; send {"old": "new"} or old=new,old2=new2.');
      }
    } else {
      map = {};
      for (const pair of text.split(',')) {
        const [from, to, extra] = pair.split('=').map((s) => s.trim());
        if (!from || !to || extra !== undefined) throw new InvalidParameterError('rename', `"${pair}" is not old=new.`);
        map[from] = to;
      }
    }
  } else map = raw;
  const out: Record<string, string> = {};
  const targets = new Set<string>();
  for (const [from, to] of Object.entries(map)) {
    if (!isTableName(from)) throw new InvalidParameterError('rename', `"${from.slice(0, 64)}" is not a table name.`);
    if (typeof to !== 'string' || !isTableName(to)) {
      throw new InvalidParameterError(
        `rename.${from}`,
        `"${String(to).slice(0, 64)}" is not a table name: a letter, then up to 63 letters, digits or "_".`,
      );
    }
    if (targets.has(to)) throw new InvalidParameterError(`rename.${from}`, `Two tables are renamed to "${to}".`);
    targets.add(to);
    out[from] = to;
  }
  return out;
}
