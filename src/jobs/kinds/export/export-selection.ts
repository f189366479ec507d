/**
 * MinApp v1.5's export selection parameters (`where`, `include_keys`, ...; their shape is in
 * contracts/exports.ts): the checks that need the table's fields. Everything refused is
 * `400 invalid_parameter` naming the parameter, before the job exists.
 */
import type { ExportRequest } from '../../../contracts/exports.js';
import { compileOrderBy, compileWhere, parameterBinder, queryFields } from '../../../db/query/index.js';
import { DEFAULT_EXPORT_ORDER, exportColumns, type ExportSelection } from '../../../db/table-sql.js';
import { InvalidParameterError } from '../../../errors.js';
import type { FieldSchema, FileType } from '../../../types/api.js';
import { storableText } from '../../../formats/storable-text.js';
import type { ValueLimits } from '../../../formats/values.js';

type Raw = Pick<ExportRequest, 'where' | 'include_keys' | 'exclude_keys' | 'order_by' | 'csv_customize_headers' | 'timestamp_convert_keys'>;

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
export function validateSelection(
  fields: FieldSchema[],
  fileType: FileType,
  p: Raw,
  limits: ValueLimits,
): { selection: ExportSelection; regexes: string[] } {
  const s: ExportSelection = {};
  let regexes: string[] = [];
  if (p.where && Object.keys(p.where).length) {
    regexes = compileWhere(p.where, fields, parameterBinder(), 'where', limits).regexes;
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
