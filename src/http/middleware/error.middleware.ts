import type { NextFunction, Request, Response } from 'express';
import {
  AppError,
  InsufficientStorageError,
  InvalidParameterError,
  JsonTooDeepError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  TooFrequentError,
} from '../../errors.js';
import type { Logger } from '../../logger.js';
import { infrastructureError } from './infrastructure-errors.js';

export interface ErrorHandlerOptions {
  /** The body limit, to say it in a 413. */
  bodyMaxBytes: number;
  maxJsonDepth: number;
}

/** The one place errors become responses: known errors keep their code, the rest a bare 500. */
export function errorHandler(logger: Logger, opts: ErrorHandlerOptions) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = fromExpress(err, opts) ?? infrastructureError(err) ?? err;
    if (e instanceof TooFrequentError) res.set('Retry-After', String(e.retryAfterSeconds));
    if (e instanceof ServiceUnavailableError) res.set('Retry-After', String(e.retryAfterSeconds));
    if (e instanceof AppError) {
      // The request line (pino-http) already says 503/507 at warn; the cause goes to debug.
      if (e !== err && (e.status === 503 || e.status === 507)) req.log.debug({ cause: describe(err) }, 'dependency unavailable');
      else if (e.status >= 500 && e.status !== 503 && e.status !== 507) logger.error({ err, path: req.path }, 'request failed');
      if (res.headersSent) return void res.destroy();
      res.status(e.status).json(e.toResponse());
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unexpected error');
    if (res.headersSent) return void res.destroy();
    res.status(500).json({ error_code: 'internal_error', error_msg: 'Something went wrong on our side; please try again.' });
  };
}

/** body-parser's errors carry a `type`; give them the contract's codes. */
function fromExpress(err: unknown, opts: ErrorHandlerOptions): AppError | undefined {
  const t = (err as { type?: string } | null)?.type;
  if (t === 'entity.parse.failed') return new InvalidParameterError('body', 'The request body is not valid JSON.');
  if (t === 'entity.too.large') return new PayloadTooLargeError(opts.bodyMaxBytes);
  if (t === 'entity.too.deep') return new JsonTooDeepError(opts.maxJsonDepth);
  if (t === 'encoding.unsupported' || t === 'charset.unsupported')
    return new InvalidParameterError(
      'body',
      'The request body must be UTF-8 JSON, sent as is or with Content-Encoding gzip, deflate or br.',
    );
  // A compressed body that does not inflate, or a body cut short by the client.
  if (t === 'request.aborted' || t === 'request.size.invalid')
    return new InvalidParameterError('body', 'The request body ended before the length it declared.');
  // The router's decoding of a path parameter: a %-escape that is not UTF-8 (%ED%A0%80, %FF).
  if (err instanceof URIError)
    return new InvalidParameterError('path', 'The URL holds a %-escape that is not UTF-8 text; escape each character as its UTF-8 bytes.');
  if ((err as { code?: string } | null)?.code === 'ENOSPC' || (err as { code?: string } | null)?.code === 'EDQUOT')
    return new InsufficientStorageError();
  if ((err as { code?: string } | null)?.code === 'Z_DATA_ERROR' || (err as { code?: string } | null)?.code === 'Z_BUF_ERROR')
    return new InvalidParameterError('body', 'The request body is not valid for its Content-Encoding.');
  return undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export function notFound(req: Request, res: Response) {
  res.status(404).json({ error_code: 'not_found', error_msg: `No route for ${req.method} ${req.path}.` });
}
