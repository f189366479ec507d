import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

// The bundle is built by `npm run build:console` (run by `npm ci` through `prepare`) into dist/console.
// From src/http/routes (tsx) that is ../../../dist/console; from dist/src/http/routes (compiled) ../../../console.
const here = fileURLToPath(new URL('.', import.meta.url));
const CANDIDATES = [join(here, '../../../dist/console'), join(here, '../../../console')];

/** Where the built console is, or null when it was not built (the API then answers 404 there). */
export function consoleDir(): string | null {
  // A built folder has assets/; the sources in console/ have an index.html too, which must never be served.
  return CANDIDATES.find((d) => existsSync(join(d, 'index.html')) && existsSync(join(d, 'assets'))) ?? null;
}

// Only this origin's own files: the bundle has no inline script or style and calls only the API here.
// The API reference at /docs (Swagger UI) runs under the same policy.
export const SELF_ONLY_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The web console at /console/ (and `GET /` leading there): static files, no token needed to load them (the page signs in itself). */
export function consoleRouter(dir: string | null = consoleDir()): Router {
  const r = Router();
  if (!dir) return r;
  // The server's front door leads people to the console (scripts use /oserve/v1, /docs, /healthz).
  r.get('/', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.redirect(302, '/console/');
  });
  r.use('/console', (_req, res, next) => {
    res.setHeader('Content-Security-Policy', SELF_ONLY_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  r.use(
    '/console',
    express.static(dir, {
      index: 'index.html',
      setHeaders(res, path) {
        // console/build.js names assets by content hash: keep them for a year. index.html must be revalidated so a
        // new release is picked up at once.
        const hashed = path.includes(`${join(dir, 'assets')}`);
        res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  return r;
}
