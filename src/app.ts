import express, { type Express } from 'express';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { authenticate } from './http/middleware/auth.middleware.js';
import { errorHandler, notFound } from './http/middleware/error.middleware.js';
import { createUploadReceiver } from './http/middleware/upload.middleware.js';
import { bundlesRouter } from './http/routes/bundles.routes.js';
import { filesRouter } from './http/routes/files.routes.js';
import { jobsRouter } from './http/routes/jobs.routes.js';
import { recordsRouter } from './http/routes/records.routes.js';
import { tablesRouter } from './http/routes/tables.routes.js';
import { transfersRouter } from './http/routes/transfers.routes.js';
import type { Services } from './services/index.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  services: Services;
  /** Readiness: resolves when PostgreSQL and Redis answer. */
  ready: () => Promise<void>;
}

export function createApp({ config, logger, services, ready }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', async (_req, res) => {
    await ready();
    res.json({ status: 'ok' });
  });

  const api = express.Router();
  // Signed downloads come first: they carry their own authorisation instead of a token.
  api.use(filesRouter(services));
  api.use(authenticate(services.users));
  api.use(express.json({ limit: '32mb' }));
  // MinApp's clients also post export parameters as a form; the validators take digit strings.
  api.use(express.urlencoded({ extended: false, limit: '1mb' }));
  api.use(tablesRouter(services));
  api.use(recordsRouter(services));
  api.use(bundlesRouter(services, createUploadReceiver(config.storageDir, config.uploadMaxBytes)));
  api.use(transfersRouter(services, createUploadReceiver(config.storageDir, config.uploadMaxBytes)));
  api.use(jobsRouter(services));
  app.use('/oserve/v1', api);

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
