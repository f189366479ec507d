import type { NextFunction, Request, Response } from 'express';
import { metrics } from '../../metrics/metrics.js';

/**
 * Counts and times every request by its route pattern (`/oserve/v1/table/:table_id/`), never by
 * its path: ids, tokens and signatures would make a label per request. A request no route matched
 * is `unmatched`; a mounted sub-application names itself with `res.locals.metricsRoute`.
 */
export function httpMetrics() {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const m = metrics();
      const labels = { method: req.method, route: routeLabel(req, res), status: String(res.statusCode) };
      m.httpRequests.inc(labels);
      m.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}

/** Keeps the mount path (`/oserve/v1` or `/oserve/v1.5`): express resets `req.baseUrl` when an error leaves the router. */
export function rememberRouteBase(req: Request, res: Response, next: NextFunction): void {
  res.locals.metricsBase = req.baseUrl;
  next();
}

function routeLabel(req: Request, res: Response): string {
  const named: unknown = res.locals.metricsRoute;
  if (typeof named === 'string') return named;
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return 'unmatched';
  const base: unknown = res.locals.metricsBase;
  return `${typeof base === 'string' ? base : req.baseUrl}${path}`;
}
