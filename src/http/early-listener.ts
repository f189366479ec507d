/**
 * The API's port, open from the first moment of the start-up: until the app can serve (PostgreSQL
 * reached and migrated), every request is answered `503 service_unavailable` with a sentence naming
 * what is missing, and `/healthz` says `"postgres": "down"`, instead of a refused connection or a
 * silent wait. The app takes over the same port once it is built.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import { describePostgres } from '../db/connection-info.js';
import type { Logger } from '../logger.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface EarlyListener {
  server: Server;
  /** The base URL the server listens on. */
  url: string;
  /** Hands every request from now on to `app`. */
  use(app: Handler): void;
  close(): Promise<void>;
}

export async function listenEarly(config: Config, logger: Logger): Promise<EarlyListener> {
  const where = `PostgreSQL at ${describePostgres(config.databaseUrl)}${config.embeddedDatabase ? '' : ' (DATABASE_URL)'}`;
  const notYet: Handler = (req, res) => {
    const health = req.url === '/healthz' || req.url?.startsWith('/healthz?');
    const body = health
      ? { status: 'unavailable', postgres: 'down' }
      : {
          error_code: 'service_unavailable',
          error_msg: `The service is starting: ${where} cannot be reached yet. It answers as soon as it can; check that PostgreSQL runs, or set DATABASE_URL.`,
        };
    res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Retry-After': '5', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  let handler: Handler = notYet;
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  logger.debug({ url }, 'port open; the API serves once PostgreSQL is reached');
  return {
    server,
    url,
    use(app) {
      handler = app;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
