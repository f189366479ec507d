/**
 * Every operation of the API, by its express path: the list the OpenAPI document is built from
 * and that the tests hold the routers to (a registered route missing here fails them). Request
 * bodies are the contracts' schemas, the very ones the routes parse requests with, so the document
 * cannot drift from what is accepted.
 */
import { z } from 'zod';
import { BundleDownloadQuerySchema, BundleExportRequestSchema, BundleImportBodySchema } from '../../contracts/bundles.js';
import { ExportRequestSchema } from '../../contracts/exports.js';
import { ImportFieldsSchema, ImportNewTableFieldsSchema } from '../../contracts/imports.js';
import { JobsQuerySchema } from '../../contracts/jobs.js';
import { ScheduleCreateSchema, ScheduleSchema, ScheduleUpdateSchema } from '../../contracts/schedules.js';
import { SqlRequestSchema } from '../../contracts/sql.js';
import { CreateTableSchema } from '../../contracts/tables.js';
import { WEBHOOK_EVENTS, WebhookCreateSchema } from '../../contracts/webhooks.js';
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

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

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
component('ExportRequest', ExportRequestSchema);
component('ImportFields', ImportFieldsSchema);
const TablePage = pageOf('TablePage', TableSchema);
const RecordPage = pageOf('RecordPage', RowSchema);
const JobPage = pageOf('JobPage', JobSchema);
const MinappExportPage = pageOf('MinappExportPage', MinappExportJobSchema);
const ImportNewTableFields = component('ImportNewTableFields', ImportNewTableFieldsSchema);
const created = { 201: { description: 'The task is queued', schema: JobCreatedSchema } };
const noContent = { 204: { description: 'Done; no body' } };
const SqlRequest = component('SqlRequest', SqlRequestSchema);
const WebhookCreate = component('WebhookCreate', WebhookCreateSchema);
const ScheduleCreate = component('ScheduleCreate', ScheduleCreateSchema);
const ScheduleUpdate = component('ScheduleUpdate', ScheduleUpdateSchema);
const Schedule = component('Schedule', ScheduleSchema);
const SchedulePage = pageOf('SchedulePage', Schedule);
const scheduleOps: Operation[] = [
  {
    method: 'post',
    path: '/schedules',
    operationId: 'createSchedule',
    summary: 'Export a table (or a bundle) on a schedule: every so often or by a cron pattern, all rows or only changes',
    tag: 'schedules',
    body: { contentType: 'application/json', schema: ScheduleCreate },
    responses: { 201: { description: 'The schedule', schema: Schedule } },
  },
  {
    method: 'get',
    path: '/schedules',
    operationId: 'listSchedules',
    summary: "The caller's schedules, newest first",
    tag: 'schedules',
    query: PageQuerySchema,
    responses: { 200: { description: 'A page of schedules', schema: SchedulePage } },
  },
  {
    method: 'get',
    path: '/schedules/:id',
    operationId: 'getSchedule',
    summary: 'One schedule',
    tag: 'schedules',
    responses: { 200: { description: 'The schedule', schema: Schedule } },
  },
  {
    method: 'patch',
    path: '/schedules/:id',
    operationId: 'updateSchedule',
    summary: "Change a schedule's timing, mode or export parameters",
    tag: 'schedules',
    body: { contentType: 'application/json', schema: ScheduleUpdate },
    responses: { 200: { description: 'The schedule', schema: Schedule } },
  },
  {
    method: 'delete',
    path: '/schedules/:id',
    operationId: 'deleteSchedule',
    summary: 'Remove a schedule (its runs stay, as jobs)',
    tag: 'schedules',
    responses: { 204: { description: 'Done; no body' } },
  },
  {
    method: 'post',
    path: '/schedules/:id/pause',
    operationId: 'pauseSchedule',
    summary: 'Stop firing until resumed',
    tag: 'schedules',
    responses: { 200: { description: 'The schedule', schema: Schedule } },
  },
  {
    method: 'post',
    path: '/schedules/:id/resume',
    operationId: 'resumeSchedule',
    summary: 'Fire again on the schedule',
    tag: 'schedules',
    responses: { 200: { description: 'The schedule', schema: Schedule } },
  },
  {
    method: 'get',
    path: '/schedules/:id/runs',
    operationId: 'listScheduleRuns',
    summary: "A schedule's runs, newest first: ordinary jobs",
    tag: 'schedules',
    query: PageQuerySchema,
    responses: { 200: { description: 'A page of jobs', schema: JobPage } },
  },
];
const Webhook = component(
  'Webhook',
  z.object({ id: z.string(), url: z.string(), events: z.array(z.enum(WEBHOOK_EVENTS)) }).catchall(z.unknown()),
);
const WebhookList = component('WebhookList', z.object({ objects: z.array(Webhook) }));
const WebhookDeliveryPage = pageOf('WebhookDeliveryPage', z.object({}).catchall(z.unknown()));
const BundleExportRequest = component('BundleExportRequest', BundleExportRequestSchema);
const BundleImportStatus = component('BundleImportStatus', z.object({}).catchall(z.unknown()));
const BundleImportFields = component('BundleImportFields', BundleImportBodySchema);

/** Every operation tableport describes; the document shows those whose route the app registers. */
export const OPERATIONS: Operation[] = [
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
    body: { contentType: 'application/json', schema: ExportRequestSchema },
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
    summary: "The caller's jobs, newest first; filtered by status, type or table",
    tag: 'jobs',
    query: JobsQuerySchema,
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
  {
    method: 'post',
    path: '/sql',
    operationId: 'runSql',
    summary: 'Run a `COPY INTO` statement as an export or import job',
    tag: 'transfers',
    body: { contentType: 'application/json', schema: SqlRequest },
    responses: created,
  },
  {
    method: 'post',
    path: '/jobs/:job_id/cancel',
    operationId: 'cancelJob',
    summary: 'Cancel a queued or running job',
    tag: 'jobs',
    responses: { 200: { description: 'The job', schema: JobSchema } },
  },
  {
    method: 'post',
    path: '/jobs/:job_id/retry',
    operationId: 'retryJob',
    summary: 'Run a failed or cancelled job again, as a new job',
    tag: 'jobs',
    responses: created,
  },
  {
    method: 'post',
    path: '/jobs/:job_id/undo',
    operationId: 'undoJob',
    summary:
      'Undo a succeeded import, as a new job of type "undo": the rows it inserted are deleted, the rows it updated restored; 409 undo_not_possible when a row it touched changed since or its undo information expired',
    tag: 'jobs',
    responses: created,
  },
  {
    method: 'post',
    path: '/webhooks',
    operationId: 'createWebhook',
    summary: 'Subscribe a URL to job events',
    tag: 'webhooks',
    body: { contentType: 'application/json', schema: WebhookCreate },
    responses: { 201: { description: 'The webhook', schema: Webhook } },
  },
  {
    method: 'get',
    path: '/webhooks',
    operationId: 'listWebhooks',
    summary: "The caller's webhooks",
    tag: 'webhooks',
    responses: { 200: { description: 'The webhooks', schema: WebhookList } },
  },
  {
    method: 'delete',
    path: '/webhooks/:id',
    operationId: 'deleteWebhook',
    summary: 'Remove a webhook',
    tag: 'webhooks',
    responses: { 204: { description: 'Done; no body' } },
  },
  {
    method: 'get',
    path: '/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: "A webhook's delivery log",
    tag: 'webhooks',
    responses: { 200: { description: 'A page of deliveries', schema: WebhookDeliveryPage } },
  },
  {
    method: 'post',
    path: '/data/export/',
    operationId: 'exportBundle',
    summary: 'Queue an export of the whole workspace as a bundle',
    tag: 'bundles',
    body: { contentType: 'application/json', schema: BundleExportRequest },
    responses: created,
  },
  {
    method: 'get',
    path: '/data/export/',
    operationId: 'downloadBundle',
    summary: 'The bundle itself, straight back (schemas only, or at most 10,000 rows)',
    tag: 'bundles',
    query: BundleDownloadQuerySchema,
    responses: { 200: { description: 'The bundle (JSON, or gzip)', contentType: 'application/octet-stream' } },
  },
  {
    method: 'post',
    path: '/data/import/',
    operationId: 'importBundle',
    summary: 'Queue an import of a bundle',
    tag: 'bundles',
    body: { contentType: 'multipart/form-data', schema: BundleImportFields, file: true },
    responses: created,
  },
  {
    method: 'get',
    path: '/data/import/status/',
    operationId: 'bundleImportStatus',
    summary: 'The state of the latest bundle import',
    tag: 'bundles',
    responses: { 200: { description: "The import's state", schema: BundleImportStatus } },
  },
  ...scheduleOps,
];
