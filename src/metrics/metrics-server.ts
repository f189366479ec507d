/**
 * `/metrics` for a `tableport worker` running without the API (METRICS_PORT): its jobs and mails
 * are counted in its own process, so each worker is scraped on its own port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sameSecret } from '../http/middleware/operator-token.js';
import type { Logger } from '../logger.js';
import type { Metrics } from './metrics.js';

export async function startMetricsServer(m: Metrics, port: number, token: string | undefined, logger: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ error_code: 'not_found', error_msg: 'Only GET /metrics is served here.' }));
      return;
    }
    const given = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (token !== undefined && (given === undefined || !sameSecret(given, token))) {
      res
        .writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer realm="metrics"' })
        .end(JSON.stringify({ error_code: 'unauthorized', error_msg: 'The metrics need "Authorization: Bearer" with the METRICS_TOKEN.' }));
      return;
    }
    m.registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': m.registry.contentType, 'Cache-Control': 'no-store' }).end(text),
      (err: unknown) => {
        logger.error({ err }, 'could not collect the metrics');
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  logger.info({ port: (server.address() as AddressInfo).port }, 'worker metrics listening');
  return server;
}
