/**
 * The shapes the API answers with, and the path and query parameters it reads, as zod schemas.
 * Request bodies are the contracts' schemas (src/contracts/), the very ones the routes parse
 * requests with; operations.ts names them.
 */
import { z } from 'zod';
import { PageQuerySchema } from '../../contracts/paging.js';
import { ERROR_CODES, FIELD_TYPES, FILE_TYPES, JOB_TYPES } from '../../types/api.js';

/** The document's named schemas (`#/components/schemas/<id>`): a registry of our own, so nothing else leaks in. */
export const components = z.registry<{ id: string }>();

/** Names a schema as a component of the document. */
export function component<T extends z.ZodType>(id: string, schema: T): T {
  components.add(schema, { id });
  return schema;
}

const unixSeconds = z.number().int().describe('Unix seconds');

export const ErrorSchema = component(
  'Error',
  z.object({
    error_code: z.string().describe(`A stable code: ${ERROR_CODES.join(', ')}`),
    error_msg: z.string().describe('A sentence a person understands'),
    parameter: z.string().optional().describe('The request parameter at fault, for invalid_parameter'),
    retry_after: z.number().int().optional().describe('Seconds to wait, for too_frequent'),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
);

export const FieldSchema = component(
  'Field',
  z.object({ name: z.string(), type: z.enum(FIELD_TYPES), description: z.string().optional() }),
);

export const TableSchema = component(
  'Table',
  z.object({
    id: z.number().int(),
    name: z.string(),
    schema: z.object({ fields: z.array(FieldSchema) }),
    row_count: z.number().int(),
    created_at: unixSeconds,
    updated_at: unixSeconds,
  }),
);

const PageMetaSchema = component(
  'PageMeta',
  z.object({
    limit: z.number().int(),
    offset: z.number().int(),
    total_count: z.number().int(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    truncated: z.boolean().optional().describe('A records page cut short by the byte budget'),
  }),
);

export function pageOf<T extends z.ZodType>(id: string, item: T) {
  return component(id, z.object({ meta: PageMetaSchema, objects: z.array(item) }));
}

export const RowSchema = component(
  'Row',
  z
    .object({ id: z.string(), created_at: unixSeconds, updated_at: unixSeconds, created_by: z.string().nullable() })
    .catchall(z.unknown())
    .describe("The built-in fields and the schema's fields"),
);

export const RowInputSchema = component(
  'RowInput',
  z
    .object({ id: z.string().optional(), created_at: unixSeconds.optional() })
    .catchall(z.unknown())
    .describe('Schema fields, optionally `id` and `created_at`'),
);

export const BulkInsertSchema = component(
  'BulkInsertResult',
  z.object({
    succeed: z.number().int(),
    total_count: z.number().int(),
    operation_result: z.array(z.object({ success: z.object({ id: z.string(), created_at: unixSeconds }) })),
  }),
);

export const JobErrorSchema = component(
  'JobError',
  z.object({ error_code: z.string(), error_msg: z.string(), line: z.number().int().optional(), field: z.string().optional() }),
);

export const JobSchema = component(
  'Job',
  z.object({
    id: z.string(),
    type: z.enum(JOB_TYPES),
    table_id: z.number().int().nullable().describe('null for a bundle job, which spans tables'),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
    progress: z.number().int().min(0).max(100),
    rows: z.number().int(),
    file_url: z.string().nullable(),
    file_type: z.enum(FILE_TYPES).nullable(),
    file_name: z.string().nullable(),
    errors: z.array(JobErrorSchema),
    dry_run: z.boolean().optional(),
    error_report_url: z.string().nullable().optional(),
    inferred_schema: z.object({ fields: z.array(FieldSchema) }).optional(),
    encoding: z.string().optional().describe('An import of a text file: the encoding it was read in, named or detected'),
    sheet: z.string().optional().describe('An xlsx import: the sheet it reads, named or found by its header'),
    sheet_tables: z
      .array(z.object({ sheet: z.string(), table_id: z.number().int(), table_name: z.string() }))
      .optional()
      .describe('POST /table/import/ with sheets=all: each sheet and the table made for it'),
    decimal_separator: z.enum(['.', ',']).optional().describe("A CSV import: its number cells' decimal separator, named or detected"),
    inserted: z.number().int().optional().describe('an import: rows added (a dry run: would add)'),
    updated: z.number().int().optional().describe('an import with on_conflict=update: existing rows replaced'),
    skipped: z.number().int().optional().describe('an import with on_conflict=skip: rows left out because their row exists'),
    preview: z
      .object({
        rows: z.array(z.record(z.string(), z.unknown())).describe('the first rows (up to 20) as they would be stored'),
        columns: z.array(
          z.object({
            field: z.string(),
            type: z.string(),
            source: z.string().nullable().describe('the file column it comes from; null: not in the file'),
          }),
        ),
        dropped: z.array(z.string()).optional().describe('file columns mapping drops'),
        file: z.object({
          format: z.enum(FILE_TYPES),
          gzip: z.boolean(),
          csv_delimiter: z.string().optional(),
          encoding: z.string().optional(),
          decimal_separator: z.string().optional(),
          sheet: z.union([z.string(), z.number()]).optional(),
        }),
      })
      .optional()
      .describe('a dry run: what the import would store, and how it reads the file'),
    undone_by: z.string().optional().describe('an import that was undone: the undo job'),
    undo_of: z.string().optional().describe('an undo job: the import it undoes'),
    deleted: z.number().int().optional().describe('an undo job: rows the import inserted, deleted'),
    restored: z.number().int().optional().describe('an undo job: rows the import updated, put back as they were'),
    table_name: z.string().describe("the table's name when the job was asked for; for a bundle job, a short description"),
    tables: z.array(z.string()).optional().describe('a bundle export: the names of the tables it holds'),
    created_at: unixSeconds,
    started_at: unixSeconds.nullable().describe('when a worker first started the job; null while queued'),
    finished_at: unixSeconds.nullable(),
    mail_status: z.enum(['pending', 'sent', 'outbox']).nullable().optional(),
    schedule_id: z.string().optional().describe('the schedule this job is a run of'),
  }),
);

export const JobCreatedSchema = component('JobCreated', z.object({ status: z.literal('ok'), job_id: z.string() }));

export const MinappExportJobSchema = component(
  'MinappExportJob',
  z.object({
    job_id: z.string(),
    status: z.enum(['pending', 'ready', 'finish', 'failed']),
    operation: z.literal('export'),
    file_name: z.string().nullable(),
    file_type: z.enum(FILE_TYPES),
    download_url: z.string().nullable(),
    created_at: unixSeconds,
    updated_at: unixSeconds,
  }),
);

export { PageQuerySchema } from '../../contracts/paging.js';

export const RecordsQuerySchema = PageQuerySchema.extend({
  where: z.string().optional().describe('A MinApp query, as JSON text'),
  order_by: z.string().optional().describe('Field names separated by commas; "-" before a name for descending'),
});

export const DownloadQuerySchema = z.object({
  expires: z.string().describe('Unix seconds, from the signed link'),
  signature: z.string().describe("The link's signature"),
});

export const ImportQuerySchema = z.object({
  dry_run: z.enum(['true', 'false']).optional().describe('Validate the file and write nothing'),
});

/** Path parameters by name: each is a string in the path. */
export const PATH_PARAMS: Record<string, z.ZodType> = {
  table_id: z.string().describe("The table's id"),
  record_id: z.string().describe("The row's id"),
  job_id: z.string().describe("The job's id"),
  file_name: z.string().describe("The file's name"),
  id: z.string().describe("The webhook's id"),
};
