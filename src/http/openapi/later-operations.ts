/**
 * Operations of routes that other parts of #10, #11 and #13 add (COPY INTO, cancel/retry,
 * webhooks, bundles). The document lists an operation only when its route is registered in the
 * app, so these appear once their routers are merged. Their bodies are described loosely here;
 * where the owning service exports its validating schema (e.g. `WebhookCreateSchema`), use it.
 */
import { z } from 'zod';
import type { Operation } from './operations.js';
import { JobCreatedSchema, JobSchema, component, pageOf } from './schemas.js';

const SqlRequest = component('SqlRequest', z.object({ sql: z.string().describe("One `COPY INTO` statement (CnosDB's syntax)") }));
const WebhookCreate = component(
  'WebhookCreate',
  z.object({
    url: z.string().max(2000).describe('An http:// or https:// URL; the outbound-address rules apply'),
    events: z.array(z.enum(['job.succeeded', 'job.failed'])).min(1),
    secret: z.string().min(1).max(256).optional().describe('Key of the `X-Tableport-Signature: sha256=<hex HMAC of the body>` header'),
  }),
);
const Webhook = component(
  'Webhook',
  z.object({ id: z.string(), url: z.string(), events: z.array(z.enum(['job.succeeded', 'job.failed'])) }).catchall(z.unknown()),
);
const WebhookList = component('WebhookList', z.object({ objects: z.array(Webhook) }));
const WebhookDeliveryPage = pageOf('WebhookDeliveryPage', z.object({}).catchall(z.unknown()));
const BundleExportRequest = component('BundleExportRequest', z.object({}).catchall(z.unknown()).describe('What to put in the bundle'));
const BundleImportStatus = component('BundleImportStatus', z.object({}).catchall(z.unknown()));
const BundleImportFields = component('BundleImportFields', z.object({}).catchall(z.unknown()));

const created = { 201: { description: 'The task is queued', schema: JobCreatedSchema } };

export const LATER_OPERATIONS: Operation[] = [
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
    summary: 'Download the latest bundle',
    tag: 'bundles',
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
];
