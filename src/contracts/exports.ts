/**
 * `POST .../table/:table_id/export/`: the request as JSON or form text. Parsed at the HTTP edge;
 * the checks that need the table (fields, windows, the row cap) are the export kind's.
 */
import { z } from 'zod';
import { FILE_TYPES } from '../types/api.js';
import { csvDelimiter, flag, unixSeconds } from './values.js';

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

/** MinApp v1.5's selection parameters, part of the export request. */
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

export const ExportRequestSchema = z.object({
  file_type: z.enum(FILE_TYPES, { error: `must be one of ${FILE_TYPES.join(', ')}` }),
  mode: z.enum(['all', 'part'], { error: 'must be "all" or "part"' }),
  start: unixSeconds.nullish(),
  end: unixSeconds.nullish(),
  // Formats (CSV dialect and compression).
  compression: z.enum(['none', 'gzip'], { error: 'must be "none" or "gzip"' }).optional(),
  csv_delimiter: csvDelimiter.optional(),
  csv_header: flag.optional(),
  csv_bom: flag.optional(),
  csv_escape_formulas: flag.optional(),
  ...ExportSelectionSchema,
  // Only what changed since then (Unix seconds): rows created or updated, and the ids of rows deleted (docs/changes.md).
  changes_since: unixSeconds.nullish(),
  // A location instead of a download link (see locations/task-locations.ts).
  destination: z.string({ error: 'must be a URL such as s3://bucket/path' }).nullish(),
  connection: z.record(z.string(), z.unknown(), { error: 'must be an object of options' }).nullish(),
});

export type ExportRequest = z.infer<typeof ExportRequestSchema>;
