import { Router } from 'express';
import { UnauthorizedError } from '../../errors.js';
import type { Metrics } from '../../metrics/metrics.js';
import { hasBearer } from '../middleware/operator-token.js';

/** `GET /metrics`: Prometheus text, behind `Authorization: Bearer $METRICS_TOKEN` when that is set. */
export function metricsRouter(m: Metrics, token: string | undefined): Router {
  const r = Router();
  r.get('/metrics', async (req, res) => {
    if (token !== undefined && !hasBearer(req, token)) {
      res.set('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new UnauthorizedError('The metrics need "Authorization: Bearer" with the METRICS_TOKEN.');
    }
    res.set('Content-Type', m.registry.contentType);
    res.set('Cache-Control', 'no-store');
    res.send(await m.registry.metrics());
  });
  return r;
}
