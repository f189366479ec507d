import type { NextFunction, Request, Response } from 'express';
import { ServerBusyError } from '../../errors.js';

/** Bodies above this (declared, or unknown because compressed or chunked) count as heavy. */
const HEAVY_BODY_BYTES = 256 * 1024;
/** Record pages asking for more rows than this count as heavy. */
const HEAVY_PAGE_ROWS = 100;
const RECORD_LIST = /^\/table\/[^/]+\/record\/?$/;

/**
 * A small semaphore over the requests that can hold tens of MB each while they are handled (big
 * JSON bodies, compressed bodies, large record pages). API and workers may share one capped
 * heap, so a burst of them must get `503` with `Retry-After` rather than exhaust it. Uploads are
 * not counted: they stream to disk.
 */
export function heavyRequestGate(limit: number) {
  let running = 0;
  return (req: Request, res: Response, next: NextFunction) => {
    if (!isHeavy(req)) return next();
    if (running >= limit) {
      const err = new ServerBusyError();
      // The body is not read: close the connection after answering, so the client stops sending.
      res.set('Connection', 'close');
      return next(err);
    }
    running++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      running--;
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };
}

export function isHeavy(req: Request): boolean {
  if (req.method === 'GET') {
    if (!RECORD_LIST.test(req.path)) return false;
    if (typeof req.query.limit !== 'string') return false;
    const limit = Number(req.query.limit);
    return Number.isFinite(limit) && limit > HEAVY_PAGE_ROWS;
  }
  if ((req.get('content-type') ?? '').toLowerCase().startsWith('multipart/')) return false;
  const encoding = (req.get('content-encoding') ?? 'identity').toLowerCase();
  if (encoding !== 'identity') return true;
  const length = req.get('content-length');
  if (length === undefined) return req.get('transfer-encoding') !== undefined;
  return Number(length) > HEAVY_BODY_BYTES;
}
