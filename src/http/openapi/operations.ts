/**
 * Every operation of the API, by its express path: the list the OpenAPI document is built from
 * and that the tests hold the routers to (a registered route missing here fails them). Request bodies are the
 * services' validating schemas, so the document cannot drift from what is accepted.
 */
import type { z } from 'zod';
import { ExportSchema } from '../../services/exports.service.js';
import { ImportFieldsSchema, ImportNewTableFieldsSchema } from '../../services/import-options.js';
import { CreateTableSchema } from '../../services/tables.service.js';
import { LATER_OPERATIONS } from './later-operations.js';
import {
  BulkInsertSchema,
  DownloadQuerySchema,
  ImportQuerySchema,
  JobCreatedSchema,
  JobSchema,
  MinappExportJobSchema,
  PageQuerySchema,
  RecordsQuerySchema,
  RowInputSchema,
  RowSchema,
  TableSchema,
  component,
  pageOf,
} from './schemas.js';

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface Operation {
  method: Method;
  /** The express path under the version's base (`/table/:table_id/`). */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** false: no bearer token (signed downloads, the document itself). */
  auth?: boolean;
  query?: z.ZodObject;
  body?: { contentType: 'application/json' | 'multipart/form-data'; schema: z.ZodType; file?: boolean };
  /** The success answers; the error answers are added to every operation. */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

component('CreateTableRequest', CreateTableSchema);
component('ExportRequest', ExportSchema);
component('ImportFields', ImportFieldsSchema);
const TablePage = pageOf('TablePage', TableSchema);
const RecordPage = pageOf('RecordPage', RowSchema);
const JobPage = pageOf('JobPage', JobSchema);
const MinappExportPage = pageOf('MinappExportPage', MinappExportJobSchema);
const ImportNewTableFields = component('ImportNewTableFields', ImportNewTableFieldsSchema);
const created = { 201: { description: 'The task is queued', schema: JobCreatedSchema } };
const noContent = { 204: { description: 'Done; no body' } };

const CORE_OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This OpenAPI document',
    tag: 'meta',
    auth: false,
    responses: { 200: { description: 'The OpenAPI 3.1 document' } },
  },
  {
    method: 'get',
    path: '/files/:job_id/:file_name',
    operationId: 'downloadFile',
    summary: "A signed download (an export file or an import's error report); the signature authorises it",
    tag: 'files',
    auth: false,
    query: DownloadQuerySchema,
    responses: { 200: { description: 'The file', contentType: 'application/octet-stream' } },
  },
  {
    method: 'post',
    path: '/table/',
    operationId: 'createTable',
    summary: 'Create a table',
    tag: 'tables',
    body: { contentType: 'application/json', schema: CreateTableSchema },
    responses: { 201: { description: 'The table', schema: TableSchema } },
  },
  {
    method: 'get',
    path: '/table/',
    operationId: 'listTables',
    summary: "The caller's tables",
    tag: 'tables',
    query: PageQuerySchema,
    responses: { 200: { description: 'A page of tables', schema: TablePage } },
  },
  {
    method: 'get',
    path: '/table/:table_id/',
    operationId: 'getTable',
    summary: 'A table',
    tag: 'tables',
    responses: { 200: { description: 'The table', schema: TableSchema } },
  },
  {
    method: 'delete',
    path: '/table/:table_id/',
    operationId: 'deleteTable',
    summary: 'Delete a table and its rows',
    tag: 'tables',
    responses: noContent,
  },
  {
    method: 'post',
    path: '/table/:table_id/record/',
    operationId: 'insertRecords',
    summary: 'Insert one row, or an array of up to 1,000 rows',
    tag: 'records',
    body: { contentType: 'application/json', schema: component('RecordsInsert', RowInputSchema.or(RowInputSchema.array().max(1000))) },
    responses: {
      201: {
        description: 'The row, or the bulk result for an array',
        schema: component('RecordsInserted', RowSchema.or(BulkInsertSchema)),
      },
    },
  },
  {
    method: 'get',
    path: '/table/:table_id/record/',
    operationId: 'listRecords',
    summary: 'A page of rows, filtered by `where`',
    tag: 'records',
    query: RecordsQuerySchema,
    responses: { 200: { description: 'A page of rows', schema: RecordPage } },
  },
  {
    method: 'get',
    path: '/table/:table_id/record/:record_id/',
    operationId: 'getRecord',
    summary: 'A row',
    tag: 'records',
    responses: { 200: { description: 'The row', schema: RowSchema } },
  },
  {
    method: 'put',
    path: '/table/:table_id/record/:record_id/',
    operationId: 'updateRecord',
    summary: 'Update a row (values, or atomic operators such as $incr_by and $append)',
    tag: 'records',
    body: { contentType: 'application/json', schema: RowInputSchema },
    responses: { 200: { description: 'The updated row', schema: RowSchema } },
  },
  {
    method: 'delete',
    path: '/table/:table_id/record/:record_id/',
    operationId: 'deleteRecord',
    summary: 'Delete a row',
    tag: 'records',
    responses: noContent,
  },
  {
    method: 'post',
    path: '/table/:table_id/export/',
    operationId: 'exportTable',
    summary: 'Queue an export of the table',
    tag: 'transfers',
    body: { contentType: 'application/json', schema: ExportSchema },
    responses: created,
  },
  {
    method: 'get',
    path: '/table/:table_id/export/',
    operationId: 'listTableExports',
    summary: "The table's export jobs (MinApp v1.5's view)",
    tag: 'transfers',
    query: PageQuerySchema,
    responses: { 200: { description: 'A page of export jobs', schema: MinappExportPage } },
  },
  {
    method: 'get',
    path: '/table/:table_id/export/:job_id/',
    operationId: 'getTableExport',
    summary: "One export job (MinApp v1.5's view)",
    tag: 'transfers',
    responses: { 200: { description: 'The export job', schema: MinappExportJobSchema } },
  },
  {
    method: 'post',
    path: '/table/import/',
    operationId: 'importNewTable',
    summary: 'Create a table with a schema inferred from the file, and import the file into it',
    tag: 'transfers',
    query: ImportQuerySchema,
    body: { contentType: 'multipart/form-data', schema: ImportNewTableFields, file: true },
    responses: created,
  },
  {
    method: 'post',
    path: '/table/:table_id/import/',
    operationId: 'importFile',
    summary: 'Queue an import of a file into the table (all or nothing)',
    tag: 'transfers',
    query: ImportQuerySchema,
    body: { contentType: 'multipart/form-data', schema: ImportFieldsSchema, file: true },
    responses: created,
  },
  {
    method: 'get',
    path: '/jobs/',
    operationId: 'listJobs',
    summary: "The caller's jobs, newest first",
    tag: 'jobs',
    query: PageQuerySchema,
    responses: { 200: { description: 'A page of jobs', schema: JobPage } },
  },
  {
    method: 'get',
    path: '/jobs/:job_id',
    operationId: 'getJob',
    summary: 'A job',
    tag: 'jobs',
    responses: { 200: { description: 'The job', schema: JobSchema } },
  },
];

/** Every operation tableport describes; the document shows those whose route the app registers. */
export const OPERATIONS: Operation[] = [...CORE_OPERATIONS, ...LATER_OPERATIONS];
