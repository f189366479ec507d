/**
 * The API reference at /docs in a real browser: Swagger UI, served by tableport itself, renders
 * every operation of /oserve/v1/openapi.json under the self-only Content-Security-Policy, and the
 * page asks nothing of any other host.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openBrowser, type Browser } from './helpers/browser.js';

const WAIT = { timeout: 60_000 };
let server: TestServer;
let browser: Browser;

before(async () => {
  server = await startTestServer({ roles: ['api'] });
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('/docs renders every operation of the OpenAPI document, with no request to another host', { timeout: 120_000 }, async () => {
  const { page, pageErrors, shot } = browser;
  const doc = (await (await fetch(`${server.baseUrl}/oserve/v1/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { summary?: string }>>;
  };
  const expected = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
  assert.ok(expected.length >= 18, `the document has only ${expected.length} operations`);

  const elsewhere: string[] = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(`${server.baseUrl}/`) && !url.startsWith('data:')) elsewhere.push(url);
  });
  // An asset the page asks for and this server lacks (the browser's own favicon request aside).
  const missing: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) missing.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(`${server.baseUrl}/docs`);
  const blocks = page.locator('.opblock');
  await page.waitForFunction(`document.querySelectorAll('.opblock').length >= ${expected.length}`, undefined, WAIT);

  const rendered = await blocks.evaluateAll((els) =>
    els.map((el) => {
      const method = el.querySelector('.opblock-summary-method')?.textContent ?? '';
      const path = el.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '';
      return `${method.toUpperCase()} ${path}`;
    }),
  );
  assert.deepEqual(rendered.sort(), expected);

  // An operation opens to its parameters and its request body's schema, read from the document.
  const exportOp = page.locator('.opblock.opblock-post', {
    has: page.locator('.opblock-summary-path[data-path="/table/{table_id}/export/"]'),
  });
  await exportOp.locator('.opblock-summary-control').click();
  await exportOp.locator('.parameters .parameter__name', { hasText: 'table_id' }).waitFor(WAIT);
  const body = exportOp.locator('.opblock-section-request-body');
  await body.getByRole('tab', { name: 'Schema', exact: true }).click();
  await body.locator('.model-box', { hasText: 'file_type' }).first().waitFor(WAIT);
  // The bearer security the document declares.
  await page
    .getByRole('button', { name: /Authorize/ })
    .first()
    .waitFor(WAIT);
  await shot('docs');

  assert.deepEqual(elsewhere, [], 'requests to other hosts');
  assert.deepEqual(missing, [], 'failed requests');
  assert.deepEqual(pageErrors, [], 'CSP refusals or uncaught errors');
});
