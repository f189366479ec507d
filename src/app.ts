import express, { type Express } from 'express';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { authenticate } from './http/middleware/auth.middleware.js';
import { bodyParsers } from './http/middleware/body.middleware.js';
import { errorHandler, notFound } from './http/middleware/error.middleware.js';
import { heavyRequestGate } from './http/middleware/heavy-gate.middleware.js';
import { requestLogger } from './http/middleware/request-log.middleware.js';
import { createUploadReceiver } from './http/middleware/upload.middleware.js';
import { bundlesRouter } from './http/routes/bundles.routes.js';
import { filesRouter } from './http/routes/files.routes.js';
import { healthRouter, type HealthCheck } from './http/routes/health.routes.js';
import { jobsRouter } from './http/routes/jobs.routes.js';
import { recordsRouter } from './http/routes/records.routes.js';
import { tablesRouter } from './http/routes/tables.routes.js';
import { transfersRouter } from './http/routes/transfers.routes.js';
import type { Services } from './services/index.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  services: Services;
  /** Readiness probes by dependency name (`postgres`, `redis`): each resolves when it answers. */
  health: Record<string, HealthCheck>;
}

export function createApp({ config, logger, services, health }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLogger(logger));
  app.use(healthRouter(health));

  const api = express.Router();
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
  // MinApp v1.5 is v1 with more parameters: one router serves both, and links follow the caller's version.
  app.use(['/oserve/v1', '/oserve/v1.5'], api);

  app.use(notFound);
  app.use(errorHandler(logger, { bodyMaxBytes: config.bodyMaxBytes, maxJsonDepth: config.maxJsonDepth }));
  return app;
}
