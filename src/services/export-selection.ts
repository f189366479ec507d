/**
 * MinApp v1.5's export selection parameters: their request schema (beside `file_type` and `mode`)
 * and the checks that need the table's fields. Everything refused is `400 invalid_parameter`
 * naming the parameter, before the job exists.
 */
import { z } from 'zod';
import { compileOrderBy, compileWhere, parameterBinder, queryFields } from '../db/query/index.js';
import { DEFAULT_EXPORT_ORDER, exportColumns, type ExportSelection } from '../db/table-sql.js';
import { InvalidParameterError } from '../errors.js';
import type { FieldSchema, FileType } from '../types/api.js';
import { storableText } from '../formats/storable-text.js';

const MAX_KEYS = 600;

/** A list as JSON, or (from a form post) as JSON text or comma-separated text. */
function list(what: string) {
  return z.preprocess(
    (v) => {
      if (typeof v !== 'string') return v;
      const t = v.trim();
      if (t.startsWith('[')) {
        try {
          return JSON.parse(t) as unknown;
        } catch {
          return v;
        }
      }
      return t === '' ? [] : t.split(',').map((s) => s.trim());
    },
    z
      .array(
        z
          .string({ error: `must list ${what} as strings` })
          .min(1)
          .max(255),
        { error: `must be an array of ${what}` },
      )
      .max(MAX_KEYS),
  );
}

/** The selection parameters' schema, merged into the export request's. */
export const ExportSelectionSchema = {
  where: z
    .preprocess(
      (v) => {
        if (typeof v !== 'string') return v;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return v;
        }
      },
      z.record(z.string(), z.unknown(), { error: 'must be a JSON object (a MinApp query)' }),
    )
    .optional(),
  include_keys: list('field names').optional(),
  exclude_keys: list('field names').optional(),
  order_by: list('field names').optional(),
  csv_customize_headers: list('header names').optional(),
  timestamp_convert_keys: list('field names').optional(),
};

type Raw = { [K in keyof typeof ExportSelectionSchema]?: z.infer<(typeof ExportSelectionSchema)[K]> };

function keysOf(fields: FieldSchema[], keys: string[], param: string): string[] {
  const known = queryFields(fields);
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    if (!known.has(k)) throw new InvalidParameterError(`${param}[${i}]`, `"${param}": "${k}" is not a field of the table.`);
    if (seen.has(k)) throw new InvalidParameterError(`${param}[${i}]`, `"${param}": "${k}" is named twice.`);
    seen.add(k);
  });
  return keys;
}

/**
 * Checks the selection against the table and returns what the job stores (only what was given),
 * with the `$regex` patterns of `where` for the caller to check in PostgreSQL.
 */
export function validateSelection(fields: FieldSchema[], fileType: FileType, p: Raw): { selection: ExportSelection; regexes: string[] } {
  const s: ExportSelection = {};
  let regexes: string[] = [];
  if (p.where && Object.keys(p.where).length) {
    regexes = compileWhere(p.where, fields, parameterBinder()).regexes;
    s.where = p.where;
  }
  if (p.include_keys?.length && p.exclude_keys?.length)
    throw new InvalidParameterError('exclude_keys', '"include_keys" and "exclude_keys" cannot be used together.');
  if (p.include_keys?.length) s.include_keys = keysOf(fields, p.include_keys, 'include_keys');
  if (p.exclude_keys?.length) {
    s.exclude_keys = keysOf(fields, p.exclude_keys, 'exclude_keys');
    if (exportColumns(fields, s).length === 0)
      throw new InvalidParameterError('exclude_keys', '"exclude_keys" leaves no column to export.');
  }
  if (p.order_by?.length) {
    compileOrderBy(p.order_by, fields, DEFAULT_EXPORT_ORDER);
    s.order_by = p.order_by;
  }
  const columns = exportColumns(fields, s);
  if (p.timestamp_convert_keys?.length) {
    const known = queryFields(fields);
    keysOf(fields, p.timestamp_convert_keys, 'timestamp_convert_keys').forEach((k, i) => {
      const type = known.get(k)?.type;
      if (type !== 'integer')
        throw new InvalidParameterError(
          `timestamp_convert_keys[${i}]`,
          `"timestamp_convert_keys": "${k}" is a ${type ?? 'unknown'} field; only created_at, updated_at and integer fields hold Unix seconds.`,
        );
      if (!columns.includes(k))
        throw new InvalidParameterError(
          `timestamp_convert_keys[${i}]`,
          `"timestamp_convert_keys": "${k}" is not among the exported columns.`,
        );
    });
    s.timestamp_convert_keys = p.timestamp_convert_keys;
  }
  if (p.csv_customize_headers?.length) {
    if (fileType !== 'csv')
      throw new InvalidParameterError('csv_customize_headers', '"csv_customize_headers" applies to CSV exports only.');
    if (p.csv_customize_headers.length !== columns.length)
      throw new InvalidParameterError(
        'csv_customize_headers',
        `"csv_customize_headers" has ${p.csv_customize_headers.length} names for ${columns.length} exported columns (${columns.join(', ')}).`,
      );
    p.csv_customize_headers.forEach((h, i) => {
      if (storableText(h) !== h)
        throw new InvalidParameterError(`csv_customize_headers[${i}]`, 'A header name cannot hold U+0000 or a lone UTF-16 surrogate.');
    });
    s.csv_customize_headers = p.csv_customize_headers;
  }
  return { selection: s, regexes };
}
