import { Router } from 'express';

/** A dependency probe: resolves when the dependency answers. */
export type HealthCheck = () => Promise<unknown>;

/** Each probe gets this long; `/healthz` answers within it whatever the dependencies do. */
export const HEALTH_TIMEOUT_MS = 1500;

/**
 * `GET /healthz`: `200 {"status": "ok", "postgres": "ok", "redis": "ok"}`, or `503` with
 * `"status": "unavailable"` and `"down"` beside each dependency that did not answer in time.
 */
export function healthRouter(checks: Record<string, HealthCheck>): Router {
  const r = Router();
  r.get('/healthz', async (_req, res) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((n) => probe(checks[n] as HealthCheck)));
    const body: Record<string, string> = { status: results.every(Boolean) ? 'ok' : 'unavailable' };
    for (const [i, n] of names.entries()) body[n] = results[i] ? 'ok' : 'down';
    if (body.status !== 'ok') res.set('Retry-After', '5');
    res.status(body.status === 'ok' ? 200 : 503).json(body);
  });
  return r;
}

async function probe(check: HealthCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      check().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
