import { Router } from 'express';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../openapi/document.js';
import { registeredRoutes } from '../openapi/registered-routes.js';

const require = createRequire(import.meta.url);
/** Scalar's self-contained bundle, served from node_modules: no CDN at run time. */
const SCALAR_BUNDLE = join(dirname(require.resolve('@scalar/api-reference')), 'browser', 'standalone.js');

/** tableport's own version, from its package.json (found upwards: this file runs from src/ or dist/src/). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tableport' && pkg.version) return pkg.version;
    } catch {
      // No package.json here: look further up.
    }
  }
  return '0.0.0';
}

/** `GET {base}/openapi.json`: no token; the servers entry follows the version the caller used. */
export function openApiRouter(version = packageVersion()): Router {
  const r = Router();
  // The app's routes, read once at the first request (every router is mounted by then).
  let routes: Set<string> | undefined;
  r.get('/openapi.json', (req, res) => {
    routes ??= registeredRoutes((req.app as unknown as { router: unknown }).router);
    res.set('Cache-Control', 'no-cache');
    res.json(openApiDocument(req.baseUrl, version, routes));
  });
  return r;
}

/** `/docs`: a reference page that renders `/oserve/v1/openapi.json`. */
export function docsRouter(): Router {
  const r = Router();
  r.get('/docs', (_req, res) => {
    // Only this server: the page cannot call out even if the bundle tried.
    res.set(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:",
    );
    res.type('html').send(DOCS_PAGE);
  });
  r.get('/docs/scalar.js', (_req, res) => {
    res.sendFile(SCALAR_BUNDLE, { maxAge: '1d', headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
  });
  r.get('/docs/init.js', (_req, res) => {
    res.type('text/javascript').send(INIT_SCRIPT);
  });
  return r;
}

export const OPENAPI_URL = '/oserve/v1/openapi.json';

// Everything stays on this server: no web fonts, no telemetry, none of Scalar's hosted AI or deploy features.
const INIT_SCRIPT = `Scalar.createApiReference('#app', {
  url: '${OPENAPI_URL}',
  withDefaultFonts: false,
  telemetry: false,
  showDeveloperTools: 'never',
  agent: { disabled: true },
  mcp: { disabled: true },
  hideDarkModeToggle: false,
});
`;

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tableport API reference</title>
</head>
<body>
<noscript>This page needs JavaScript. The document itself is at <a href="${OPENAPI_URL}">${OPENAPI_URL}</a>.</noscript>
<div id="app" data-openapi-url="${OPENAPI_URL}"></div>
<script src="/docs/scalar.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;
