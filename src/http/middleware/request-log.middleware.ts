import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../../logger.js';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** An incoming id is kept only when it is short and plain, so it cannot forge log lines or headers. */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Query values that authorise on their own (the signed link's signature) never reach the logs. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:signature|token|access_token)=)[^&#]*/gi, '$1[REDACTED]');
}

/**
 * One log line per request, at info (5xx at error), with a request id that is echoed in the
 * `X-Request-Id` response header and carried by `req.log` for every line logged while handling it.
 * The `Authorization` header and cookies are not logged at all.
 */
export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && SANE_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader(REQUEST_ID_HEADER, id);
      return id;
    },
    customLogLevel: (req, res, err) => {
      // 503 (a dependency away, or busy) and 507 are expected in an outage: one warn line each, not an error with a stack.
      if (res.statusCode === 503 || res.statusCode === 507) return 'warn';
      if (err || res.statusCode >= 500) return 'error';
      // Health probes every few seconds would drown everything else.
      if (req.url === '/healthz' && res.statusCode < 400) return 'debug';
      return 'info';
    },
    customSuccessMessage: (req, res) => `${req.method} ${redactUrl(req.url ?? '')} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${redactUrl(req.url ?? '')} ${res.statusCode}`,
    serializers: {
      req: (req: { id: unknown; method: string; url: string; remoteAddress?: string; headers: Record<string, unknown> }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url),
        remoteAddress: req.remoteAddress,
        userAgent: req.headers['user-agent'],
      }),
      res: (res: { statusCode: number; headers?: Record<string, unknown> }) => ({
        statusCode: res.statusCode,
        contentLength: res.headers?.['content-length'],
      }),
    },
  });
}
