/**
 * An import's request: the multipart fields beside an upload (all text, as forms send them), or
 * the JSON body naming a location to read, with the same file options. Parsed at the HTTP edge into
 * `ImportFields`; the checks that need the file or the table are the import kind's.
 */
import { z } from 'zod';
import { InvalidParameterError } from '../errors.js';
import type { ImportFileOptions } from '../formats/index.js';
import { canonicalEncoding } from '../formats/text-encoding.js';
import { FILE_TYPES, type FileType, type OnConflict } from '../types/api.js';
import { parseRequest } from './parse.js';
import { csvDelimiter, textFlag } from './values.js';

const ENCODING_RULE = 'must be a text encoding such as utf-8, utf-16le, utf-16be, gb18030, big5, shift_jis, windows-1252 or iso-8859-2';

/** A text encoding's label (`GBK`, `latin1`, `UTF-16`), as its canonical name. */
const encoding = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    const name = canonicalEncoding(v);
    if (name === undefined) ctx.addIssue({ code: 'custom', message: ENCODING_RULE });
    return name ?? v;
  })
  .describe(
    'The text encoding of a CSV, JSON or NDJSON file; detected when unset (UTF-8, UTF-16 with or without BOM, GB18030, Shift_JIS).',
  );

const decimalSeparator = z
  .enum(['.', ','], { error: 'must be "." or ","' })
  .describe(
    'CSV number cells: the decimal separator; with ",", "." and spaces group thousands (1.234,5). Detected with ";" as the delimiter when unambiguous.',
  );

/** The import's multipart fields beside the file. */
export const ImportFieldsSchema = z.object({
  encoding: encoding.optional(),
  decimal_separator: decimalSeparator.optional(),
  sheet: z
    .string()
    .trim()
    .min(1, 'must be a sheet name or a position from 1')
    .max(100)
    .optional()
    .describe(
      'xlsx: the sheet to import, by name or 1-based position; default: the only sheet, or the one whose header names fields of the table',
    ),
  csv_delimiter: csvDelimiter.optional(),
  csv_header: textFlag.optional(),
  columns: z
    .string()
    .max(16 * 1024)
    .transform((v) => v.split(',').map((c) => c.trim()))
    .refine((cols) => cols.every((c) => c !== ''), 'must be field names separated by commas')
    .optional(),
  on_conflict: z.enum(['error', 'skip', 'update'], { error: 'must be "error", "skip" or "update"' }).optional(),
  dry_run: textFlag.optional(),
  email: textFlag.optional(),
  /** JSON text: `{"file column": "field" | null}` (a form sends every value as text). */
  mapping: z
    .string()
    .max(64 * 1024)
    .optional(),
  conflict_key: z
    .string()
    .max(16 * 1024)
    .transform((v) => v.split(',').map((c) => c.trim()))
    .refine((keys) => keys.every((c) => c !== ''), 'must be field names separated by commas')
    .optional(),
});

/** `mapping` once parsed: each file column renamed to a field, or dropped (`null`). */
const MappingSchema = z.record(
  z.string().min(1, 'a file column name cannot be empty'),
  z.union([z.string().min(1, 'a field name cannot be empty'), z.null()], { error: 'each value must be a field name or null' }),
  { error: 'must be a JSON object of file column names to field names (or null to drop a column)' },
);

const NEW_TABLE_NAME = 'Send the new table\'s name as the field "name".';

/** `POST /table/import/`: the new table's name beside the import's own fields (the name's rules are the table's). */
export const ImportNewTableFieldsSchema = ImportFieldsSchema.extend({
  name: z.string({ error: NEW_TABLE_NAME }).min(1, NEW_TABLE_NAME),
  sheets: z
    .enum(['all'], { error: 'must be "all"' })
    .optional()
    .describe(
      'xlsx: "all" makes one table per sheet that holds rows, named NAME_<sheet>, each with its inferred schema, in one all-or-nothing job',
    ),
});

/** `POST /table/import/`'s `sheets`: `all` for one table per sheet of a workbook, else undefined. */
export function parseNewTableSheets(body: unknown): 'all' | undefined {
  const sheets = body && typeof body === 'object' ? (body as Record<string, unknown>).sheets : undefined;
  if (sheets === undefined) return undefined;
  const r = ImportNewTableFieldsSchema.shape.sheets.safeParse(sheets);
  if (!r.success)
    throw new InvalidParameterError('sheets', 'Invalid parameter "sheets": must be "all" (one table per sheet of a workbook).');
  return r.data;
}

/** What an import is told beside its file, parsed. */
export interface ImportFields {
  fileOpts: ImportFileOptions;
  onConflict: OnConflict;
  dryRun: boolean;
  /** Mail the outcome (the default). */
  email: boolean;
  /** The fields that find the existing row `on_conflict` acts on; absent: `id`. */
  conflictKey?: string[];
}

/** `mapping` as JSON text (a form) or an object (a JSON body), checked for its shape; the table checks the names. */
function parseMapping(raw: unknown): Record<string, string | null> {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      throw new InvalidParameterError(
        'mapping',
        'Invalid parameter "mapping": must be a JSON object such as {"Full name": "name", "Notes": null}.',
      );
    }
  }
  return parseRequest(MappingSchema, value, 'mapping');
}

/** The multipart fields of an upload (and `dry_run`, which may come in the query). */
export function parseImportFields(body: unknown): ImportFields {
  const f = parseRequest(ImportFieldsSchema, body ?? {});
  if (f.columns && f.csv_header !== 'false') throw new InvalidParameterError('columns', '"columns" goes with csv_header=false.');
  const fileOpts: ImportFileOptions = {};
  if (f.csv_delimiter !== undefined) fileOpts.csvDelimiter = f.csv_delimiter;
  if (f.csv_header === 'false') fileOpts.csvHeader = false;
  if (f.columns) fileOpts.columns = f.columns;
  if (f.encoding !== undefined) fileOpts.encoding = f.encoding;
  if (f.decimal_separator !== undefined) fileOpts.decimalSeparator = f.decimal_separator;
  if (f.sheet !== undefined) fileOpts.sheet = f.sheet;
  if (f.mapping !== undefined) fileOpts.mapping = parseMapping(f.mapping);
  const out: ImportFields = { fileOpts, onConflict: f.on_conflict ?? 'error', dryRun: f.dry_run === 'true', email: f.email !== 'false' };
  if (f.conflict_key) {
    if ((f.on_conflict ?? 'error') === 'error')
      throw new InvalidParameterError('conflict_key', '"conflict_key" goes with on_conflict=update or on_conflict=skip.');
    const dup = f.conflict_key.find((k, i) => f.conflict_key?.indexOf(k) !== i);
    if (dup !== undefined) throw new InvalidParameterError('conflict_key', `"conflict_key" names the field "${dup}" twice.`);
    // `id` alone is the default key; with other fields it adds nothing (it is unique already).
    if (!(f.conflict_key.length === 1 && f.conflict_key[0] === 'id')) out.conflictKey = f.conflict_key;
  }
  return out;
}

/** The new table's name from the form or body, or `invalid_parameter` naming "name". */
export function parseNewTableName(body: unknown): string {
  const name = body && typeof body === 'object' ? (body as Record<string, unknown>).name : undefined;
  const r = ImportNewTableFieldsSchema.shape.name.safeParse(name);
  if (!r.success) throw new InvalidParameterError('name', NEW_TABLE_NAME);
  return r.data;
}

const flag = z.union([z.boolean(), z.enum(['true', 'false'])]);
const url = z.string({ error: 'must be a URL such as s3://bucket/path' });

/** The JSON body of an import from a location: where, how to connect, and the upload's file options. */
export const SourceImportSchema = z.object({
  source: url.optional(),
  /** MinApp's name for `source`. */
  dataFileUrl: url.optional(),
  connection: z.record(z.string(), z.unknown(), { error: 'must be an object of options' }).nullish(),
  file_type: z.enum(FILE_TYPES, { error: `must be one of ${FILE_TYPES.join(', ')}` }).optional(),
  encoding: z.string().optional(),
  decimal_separator: z.string().optional(),
  sheet: z.union([z.string(), z.number()]).optional(),
  csv_delimiter: z.string().optional(),
  csv_header: flag.optional(),
  columns: z.union([z.string(), z.array(z.string())]).optional(),
  on_conflict: z.string().optional(),
  dry_run: flag.optional(),
  email: flag.optional(),
  /** An object, or its JSON text. */
  mapping: z.unknown().optional(),
  conflict_key: z.union([z.string(), z.array(z.string())]).optional(),
  /** `POST /table/import/` with a JSON body: the new table's name. */
  name: z.unknown().optional(),
});

export interface SourceImportRequest {
  url: string;
  connection: Record<string, unknown> | undefined;
  /** Declared by the user; otherwise each file's content decides. */
  fileType?: FileType;
  fields: ImportFields;
}

/** The JSON body of an import from a location; its file options are checked as an upload's fields are. */
export function parseSourceImport(body: unknown): SourceImportRequest {
  const p = parseRequest(SourceImportSchema, body ?? {});
  if (p.source !== undefined && p.dataFileUrl !== undefined)
    throw new InvalidParameterError('dataFileUrl', 'Give "source" or its synonym "dataFileUrl", not both.');
  const source = p.source ?? p.dataFileUrl;
  if (source === undefined)
    throw new InvalidParameterError(
      'source',
      'Name the file in "source" (a JSON body), or send it as the multipart/form-data field "file".',
    );
  const text = (v: boolean | string | undefined) => (v === undefined ? undefined : String(v));
  const fields = parseImportFields({
    encoding: p.encoding,
    decimal_separator: p.decimal_separator,
    sheet: p.sheet === undefined ? undefined : String(p.sheet),
    csv_delimiter: p.csv_delimiter,
    csv_header: text(p.csv_header),
    columns: Array.isArray(p.columns) ? p.columns.join(',') : p.columns,
    on_conflict: p.on_conflict,
    dry_run: text(p.dry_run),
    email: text(p.email),
    conflict_key: Array.isArray(p.conflict_key) ? p.conflict_key.join(',') : p.conflict_key,
  });
  if (p.mapping !== undefined && p.mapping !== null) fields.fileOpts.mapping = parseMapping(p.mapping);
  if (p.file_type === 'sql')
    throw new InvalidParameterError('file_type', 'SQL files cannot be imported; use csv, json, ndjson, parquet or xlsx.');
  return { url: source, connection: p.connection ?? undefined, fields, ...(p.file_type ? { fileType: p.file_type } : {}) };
}
