import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** Compares in constant time whatever the lengths: both sides are hashed first. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of `Authorization: Bearer TOKEN`, if any. */
export function bearerToken(req: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
}

/** True when the request carries `Authorization: Bearer <expected>`. */
export function hasBearer(req: Request, expected: string): boolean {
  const given = bearerToken(req);
  return given !== undefined && sameSecret(given, expected);
}
