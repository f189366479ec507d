import express, { type Express } from 'express';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { authenticate } from './http/middleware/auth.middleware.js';
import { httpMetrics, rememberRouteBase } from './http/middleware/metrics.middleware.js';
import { ADMIN_BASE_PATH, adminQueuesRouter } from './http/routes/admin-queues.routes.js';
import { docsRouter, openApiRouter } from './http/routes/docs.routes.js';
import { metricsRouter } from './http/routes/metrics.routes.js';
import type { JobQueues } from './jobs/queues.js';
import { metrics } from './metrics/metrics.js';
import { bodyParsers } from './http/middleware/body.middleware.js';
import { errorHandler, notFound } from './http/middleware/error.middleware.js';
import { heavyRequestGate } from './http/middleware/heavy-gate.middleware.js';
import { requestLogger } from './http/middleware/request-log.middleware.js';
import { createUploadReceiver } from './http/middleware/upload.middleware.js';
import { bundlesRouter } from './http/routes/bundles.routes.js';
import { consoleRouter } from './http/routes/console.routes.js';
import { filesRouter } from './http/routes/files.routes.js';
import { healthRouter, type HealthCheck } from './http/routes/health.routes.js';
import { jobsRouter } from './http/routes/jobs.routes.js';
import { schedulesRouter } from './http/routes/schedules.routes.js';
import { webhooksRouter } from './http/routes/webhooks.routes.js';
import { recordsRouter } from './http/routes/records.routes.js';
import { sqlRouter } from './http/routes/sql.routes.js';
import { tablesRouter } from './http/routes/tables.routes.js';
import { transfersRouter } from './http/routes/transfers.routes.js';
import type { Services } from './services/index.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  services: Services;
  /** Readiness probes by dependency name (`postgres`, `redis`): each resolves when it answers. */
  health: Record<string, HealthCheck>;
  /** The queues bull-board shows at /admin/queues (mounted only with ADMIN_TOKEN set). */
  queues?: JobQueues;
}

export function createApp({ config, logger, services, health, queues }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(httpMetrics());
  app.use(requestLogger(logger));
  app.use(healthRouter(health));
  // Operator's instruments: outside /oserve, each with its own token (or none, for the docs).
  app.use(metricsRouter(metrics(), config.metricsToken));
  app.use(docsRouter());
  if (config.adminToken !== undefined && queues) {
    const adminToken = config.adminToken;
    app.use(
      ADMIN_BASE_PATH,
      adminQueuesRouter({
        adminToken,
        signingSecret: config.signingSecret,
        publicUrl: config.publicUrl,
        queues: queues.backend.dashboardQueues(),
      }),
    );
  }

  const api = express.Router();
  api.use(rememberRouteBase);
  // The OpenAPI document needs no token.
  api.use(openApiRouter());
  // Signed downloads come first: they carry their own authorisation instead of a token.
  api.use(filesRouter(services));
  api.use(authenticate(services.users));
  // Before any body is read: a burst of large requests gets 503 instead of filling the heap.
  api.use(heavyRequestGate(config.heavyRequestConcurrency));
  api.use(bodyParsers({ maxBytes: config.bodyMaxBytes, maxDepth: config.maxJsonDepth }));
  api.use(tablesRouter(services));
  api.use(recordsRouter(services));
  api.use(bundlesRouter(services, createUploadReceiver(config.storageDir, config.uploadMaxBytes)));
  api.use(transfersRouter(services, createUploadReceiver(config.storageDir, config.uploadMaxBytes)));
  api.use(jobsRouter(services));
  api.use(sqlRouter(services));
  api.use(webhooksRouter(services));
  api.use(schedulesRouter(services));
  // MinApp v1.5 is v1 with more parameters: one router serves both, and links follow the caller's version.
  app.use(['/oserve/v1', '/oserve/v1.5'], api);
  app.use(consoleRouter());

  app.use(notFound);
  app.use(errorHandler(logger, { bodyMaxBytes: config.bodyMaxBytes, maxJsonDepth: config.maxJsonDepth }));
  return app;
}
