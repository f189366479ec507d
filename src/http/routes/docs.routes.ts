import { Router } from 'express';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../openapi/document.js';
import { registeredRoutes } from '../openapi/registered-routes.js';
import { SELF_ONLY_CSP } from './console.routes.js';

const require = createRequire(import.meta.url);
/** Swagger UI's prebuilt bundle and stylesheet (swagger-ui-dist), served from node_modules: no CDN at run time. */
const SWAGGER_UI = dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

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
    // The console's policy: only this server, no inline script or style. The page cannot call out
    // even if the bundle tried (Swagger UI's validator badge is also switched off in init.js).
    res.set('Content-Security-Policy', SELF_ONLY_CSP);
    res.set('Referrer-Policy', 'no-referrer');
    res.type('html').send(DOCS_PAGE);
  });
  for (const [name, type] of Object.entries(ASSETS)) {
    r.get(`/docs/${name}`, (_req, res) => {
      res.sendFile(join(SWAGGER_UI, name), { maxAge: '1d', headers: { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff' } });
    });
  }
  r.get('/docs/init.js', (_req, res) => {
    res.type('text/javascript').send(INIT_SCRIPT);
  });
  return r;
}

export const OPENAPI_URL = '/oserve/v1/openapi.json';

// validatorUrl: null, or Swagger UI sends the document to validator.swagger.io for a badge.
// No preset beyond the default: the standalone preset's top bar loads any URL typed into it.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '${OPENAPI_URL}',
  dom_id: '#app',
  deepLinking: true,
  validatorUrl: null,
});
`;

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tableport API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<noscript>This page needs JavaScript. The document itself is at <a href="${OPENAPI_URL}">${OPENAPI_URL}</a>.</noscript>
<div id="app"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;
