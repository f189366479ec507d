import express, { type RequestHandler } from 'express';
import { jsonDeeperThan } from '../../formats/json-depth.js';

export interface BodyLimits {
  /** Largest body, counted after decompression (body-parser applies `limit` to the inflated bytes). */
  maxBytes: number;
  maxDepth: number;
}

/** Thrown from body-parser's `verify`; the error middleware turns it into a 400. */
export class BodyTooDeepSignal extends Error {
  readonly type = 'entity.too.deep';
}

/**
 * JSON and form bodies with a size cap that holds for compressed bodies too, and a depth cap
 * checked on the raw bytes before `JSON.parse` builds anything.
 */
export function bodyParsers({ maxBytes, maxDepth }: BodyLimits): RequestHandler[] {
  return [
    express.json({
      limit: maxBytes,
      verify: (_req, _res, buf) => {
        if (jsonDeeperThan(buf, maxDepth)) throw new BodyTooDeepSignal(`deeper than ${maxDepth}`);
      },
    }),
    // MinApp's clients also post export parameters as a form; the validators take digit strings.
    express.urlencoded({ extended: false, limit: Math.min(maxBytes, 1024 * 1024) }),
  ];
}
