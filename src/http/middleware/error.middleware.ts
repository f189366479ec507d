import type { NextFunction, Request, Response } from 'express';
import { AppError, InvalidParameterError, TooFrequentError } from '../../errors.js';
import type { Logger } from '../../logger.js';

/** The one place errors become responses: known errors keep their code, the rest a bare 500. */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = fromExpress(err);
    if (e instanceof TooFrequentError) res.set('Retry-After', String(e.retryAfterSeconds));
    if (e instanceof AppError) {
      if (e.status >= 500) logger.error({ err, path: req.path }, 'request failed');
      res.status(e.status).json(e.toResponse());
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unexpected error');
    if (res.headersSent) return void res.destroy();
    res.status(500).json({ error_code: 'internal_error', error_msg: 'Something went wrong on our side; please try again.' });
  };
}

/** body-parser's errors carry a `type`; give them the contract's codes. */
function fromExpress(err: unknown): unknown {
  const t = (err as { type?: string }).type;
  if (t === 'entity.parse.failed') return new InvalidParameterError('body', 'The request body is not valid JSON.');
  if (t === 'entity.too.large') return new AppError('payload_too_large', 413, 'The request body is too large.');
  if (t === 'encoding.unsupported' || t === 'charset.unsupported')
    return new InvalidParameterError('body', 'The request body must be UTF-8 JSON.');
  return err;
}

export function notFound(req: Request, res: Response) {
  res.status(404).json({ error_code: 'not_found', error_msg: `No route for ${req.method} ${req.path}.` });
}
