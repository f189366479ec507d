import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Express } from 'express';
import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { openApiPath } from '../../../src/http/openapi/document.js';
import { OPERATIONS } from '../../../src/http/openapi/operations.js';
import { registeredRoutes } from '../../../src/http/openapi/registered-routes.js';
import { createLogger } from '../../../src/logger.js';
import type { Services } from '../../../src/services/index.js';
import { FILE_TYPES } from '../../../src/types/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

type Doc = {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<
    string,
    Record<
      string,
      {
        security?: unknown[];
        parameters?: Array<{ name: string; in: string }>;
        requestBody?: unknown;
        responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
      }
    >
  >;
  components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }>; required?: string[] }> };
};

/** Routes outside the versioned API, which the document does not describe (`/` leads to the console). */
const OUTSIDE_API = new Set(['/', '/healthz', '/metrics', '/docs', '/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css', '/docs/init.js']);

/** Every route express would dispatch to, as `METHOD path`, found by walking the router stacks. */
function routesOf(app: Express): string[] {
  return [...registeredRoutes((app as unknown as { router: unknown }).router)];
}

describe('OpenAPI document and /docs', () => {
  let server: TestServer;
  let doc: Doc;

  before(async () => {
    server = await startTestServer();
    const res = await fetch(`${server.baseUrl}/oserve/v1/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as Doc;
  });
  after(() => server.close());

  test('served without a token, and valid OpenAPI 3.1 by a real validator', async () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.servers, [{ url: '/oserve/v1' }]);
    const result = await new Validator().validate(structuredClone(doc) as unknown as Parameters<Validator['validate']>[0]);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1));
    // v1.5 serves the same operations, with itself as the server.
    const v15 = (await (await fetch(`${server.baseUrl}/oserve/v1.5/openapi.json`)).json()) as Doc;
    assert.deepEqual(v15.servers, [{ url: '/oserve/v1.5' }]);
    assert.deepEqual(Object.keys(v15.paths), Object.keys(doc.paths));
  });

  test('every route registered in express is in the document, and nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tableport-openapi-'));
    try {
      const config = loadConfig({
        STORAGE_DIR: join(dir, 'files'),
        DATA_DIR: join(dir, 'data'),
        SIGNING_SECRET: 'a-signing-secret-for-this-test-only',
        ADMIN_TOKEN: undefined,
      });
      // Building the app registers its routes without touching the services.
      const app = createApp({ config, logger: createLogger('silent'), services: {} as unknown as Services, health: {} });
      const routes = routesOf(app).filter((r) => !OUTSIDE_API.has(r.split(' ')[1] as string));
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      const expected = routes.map((r) => {
        const [method, path] = r.split(' ') as [string, string];
        return `${method} ${openApiPath(path)}`;
      });
      assert.ok(expected.length >= 18, `only ${expected.length} routes found: ${expected.join(', ')}`);
      assert.deepEqual([...new Set(expected)].sort(), [...new Set(documented)].sort());
      // Each documented operation is a known one (the list may name routes another part adds later).
      const known = new Set(OPERATIONS.map((o) => `${o.method.toUpperCase()} ${openApiPath(o.path)}`));
      for (const d of documented) assert.ok(known.has(d), d);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('each operation has its path parameters, its error answers in the {error_code, error_msg} shape, and bearer security unless public', () => {
    const error = doc.components.schemas.Error;
    assert.deepEqual(error?.required?.sort(), ['error_code', 'error_msg']);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const names = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        assert.deepEqual(
          names,
          [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
          `${method} ${path}`,
        );
        assert.equal(op.responses['404']?.content?.['application/json']?.schema.$ref, '#/components/schemas/Error', `${method} ${path}`);
        const isPublic = path === '/openapi.json' || path.startsWith('/files/');
        assert.deepEqual(op.security, isPublic ? [] : undefined, `${method} ${path}`);
        if (!isPublic) assert.ok(op.responses['401'], `${method} ${path} lacks 401`);
      }
    }
  });

  test("request bodies are the validating schemas: the export's file types are the accepted ones", async () => {
    const exportBody = doc.components.schemas.ExportRequest;
    assert.deepEqual(exportBody?.properties?.file_type?.enum, [...FILE_TYPES]);
    assert.deepEqual(exportBody?.required?.sort(), ['file_type', 'mode']);
    assert.ok(exportBody?.properties?.csv_escape_formulas, 'csv_escape_formulas is documented');
    assert.ok(doc.paths['/table/{table_id}/import/']?.post?.requestBody);
    assert.ok(doc.components.schemas.ImportFields?.properties?.on_conflict);
    assert.ok(doc.components.schemas.CreateTableRequest?.properties?.schema);
  });

  test('/docs is a page that renders the document with Swagger UI served from this server', async () => {
    const res = await fetch(`${server.baseUrl}/docs`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<script src="\/docs\/swagger-ui-bundle\.js"><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="\/docs\/swagger-ui\.css">/);
    assert.doesNotMatch(html, /https?:\/\//, 'no CDN');
    const init = await (await fetch(`${server.baseUrl}/docs/init.js`)).text();
    assert.ok(init.includes("url: '/oserve/v1/openapi.json'"));
    assert.ok(init.includes('validatorUrl: null'), 'no call to the online validator');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    const bundle = await fetch(`${server.baseUrl}/docs/swagger-ui-bundle.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
    assert.ok((await bundle.text()).includes('SwaggerUIBundle'));
    const css = await fetch(`${server.baseUrl}/docs/swagger-ui.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
    assert.match(await css.text(), /\.swagger-ui/);
    // The folder's other files (its demo page, source maps) are not served.
    assert.equal((await fetch(`${server.baseUrl}/docs/index.html`)).status, 404);
  });
});
