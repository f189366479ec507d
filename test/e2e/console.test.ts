/**
 * The web console in a real browser against a real server: sign in, create a table, import by
 * drag-and-drop, export and download, cancel a big export, and read a failed import's errors.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openBrowser, type Browser } from './helpers/browser.js';

const WAIT = { timeout: 120_000 };
let server: TestServer;
let browser: Browser;
let token: string;

before(async () => {
  server = await startTestServer();
  token = (await server.createUser()).token;
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.baseUrl}/oserve/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Drops `content` as a file on the drop zone, the way a browser delivers a dragged file. */
async function dropFile(page: Page, zone: Locator, name: string, content: string, type = 'text/csv'): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    `(() => { const dt = new DataTransfer(); dt.items.add(new File([${JSON.stringify(content)}], ${JSON.stringify(name)}, { type: ${JSON.stringify(type)} })); return dt; })()`,
  );
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
}

/** The newest job's card on the jobs page (the page lists newest first), and its id. */
async function newestJob(page: Page): Promise<{ card: Locator; id: string }> {
  await page.waitForURL(/#\/jobs$/, WAIT);
  const first = page.locator('ul.jobs > li').first();
  await first.waitFor(WAIT);
  const id = await first.getAttribute('data-job-id');
  assert.ok(id, 'a job card carries its id');
  return { card: page.locator(`li[data-job-id="${id}"]`), id };
}

const status = (card: Locator, word: string) => card.locator('[data-testid=status]', { hasText: word }).waitFor(WAIT);

async function openTable(page: Page, name: string, tab: 'Rows' | 'Import' | 'Export'): Promise<void> {
  await page.getByRole('link', { name: 'Tables', exact: true }).click();
  await page.getByRole('link', { name, exact: true }).click();
  await page.getByRole('tab', { name: tab }).click();
}

test('the page is served without a token, with a self-only CSP and cache headers', async () => {
  const res = await fetch(`${server.baseUrl}/console/`);
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const html = await res.text();
  const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(asset, 'index.html loads a hashed bundle');
  const js = await fetch(`${server.baseUrl}${asset}`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);
  const bare = await fetch(`${server.baseUrl}/console`, { redirect: 'manual' });
  assert.equal(bare.status, 301);
  assert.equal(bare.headers.get('location'), '/console/');
});

test('a person signs in, creates a table, imports a CSV by drag-and-drop and exports it as CSV', { timeout: 300_000 }, async () => {
  const { page, shot } = browser;
  await page.goto(`${server.baseUrl}/console/`);

  // A wrong token: the API's sentence, and no way in.
  await page.getByLabel('API token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor(WAIT);
  assert.match((await page.getByRole('alert').textContent()) ?? '', /unauthorized/);
  await shot('01-sign-in');

  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tables', level: 1 }).waitFor(WAIT);
  assert.equal(await page.evaluate('sessionStorage.getItem("tableport.token")'), token, 'the token is kept in sessionStorage');
  assert.ok(!page.url().includes(token), 'the token is never in the URL');

  // Create a table with two fields.
  await page.getByLabel('Name', { exact: true }).fill('people');
  await page.getByLabel('Field 1', { exact: true }).fill('name');
  await page.getByRole('button', { name: 'Add field' }).click();
  await page.getByLabel('Field 2', { exact: true }).fill('age');
  await page.getByLabel('Type 2', { exact: true }).selectOption('integer');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: /^people/, level: 1 }).waitFor(WAIT);

  // Import: the target schema is shown, and the file arrives by a real drop event.
  await page.getByRole('tab', { name: 'Import' }).click();
  const panel = page.getByRole('tabpanel');
  assert.match((await panel.locator('.chips').textContent()) ?? '', /name\s*string.*age\s*integer/);
  const people = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken'];
  const csv = `name,age\n${people.map((n, i) => `${n},${30 + i}`).join('\n')}\n`;
  await dropFile(page, panel.locator('.dropzone'), 'people.csv', csv);
  await panel.getByText('File: people.csv').waitFor(WAIT);
  await shot('02-import-drop');
  await panel.getByRole('button', { name: 'Start import' }).click();

  const imported = await newestJob(page);
  await status(imported.card, 'succeeded');
  assert.equal(await imported.card.getByTestId('progress').textContent(), '100%');
  assert.equal(await imported.card.locator('progress').getAttribute('value'), '100');
  assert.match((await imported.card.textContent()) ?? '', /5 rows/);

  // The rows, then the where box narrowing them.
  await openTable(page, 'people', 'Rows');
  await page.getByText('Rows 1–5 of 5').waitFor(WAIT);
  await page.getByLabel('where (MinApp JSON)').fill('{"age": {"$gte": 33}}');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('Rows 1–2 of 2').waitFor(WAIT);
  const shown = await page.getByRole('tabpanel').locator('tbody tr').allTextContents();
  assert.equal(shown.length, 2);
  assert.ok(shown.some((r) => r.includes('Margaret')) && shown.some((r) => r.includes('Ken')));
  await shot('03-rows-where');

  // Export as CSV (every option is on the form; the defaults give the plain file), then download it.
  await page.getByRole('tab', { name: 'Export' }).click();
  await page.getByLabel('File type').selectOption('csv');
  await page.getByLabel('order_by (comma-separated, - for descending)').fill('age');
  await shot('04-export-form');
  await page.getByRole('button', { name: 'Start export' }).click();
  const exported = await newestJob(page);
  await status(exported.card, 'succeeded');
  await shot('05-jobs');
  const [download] = await Promise.all([
    page.waitForEvent('download', WAIT),
    exported.card.getByRole('link', { name: 'Download' }).click(),
  ]);
  const path = await download.path();
  const lines = (await readFile(path, 'utf8')).trim().split('\n');
  assert.equal(lines[0], 'id,created_at,updated_at,created_by,name,age');
  assert.deepEqual(
    lines.slice(1).map((l) => l.split(',').slice(4).join(',')),
    people.map((n, i) => `${n},${30 + i}`),
  );
  assert.deepEqual(browser.pageErrors, [], 'the page logged no errors (no CSP refusals)');
});

test('a big export is cancelled from the jobs page', { timeout: 300_000 }, async () => {
  const { page, shot } = browser;
  const created = await api('POST', '/table/', {
    name: 'big',
    schema: {
      fields: [
        { name: 'n', type: 'integer' },
        { name: 'body', type: 'string' },
      ],
    },
  });
  assert.equal(created.status, 201);
  await server.db.query(
    `INSERT INTO tableport_data.t_${Number(created.json.id)} (id, created_at, updated_at, created_by, n, body)
     SELECT 'r' || g, 1000 + g, 1000 + g, '1', g, repeat('x', 60) FROM generate_series(1, 600000) g`,
  );
  await openTable(page, 'big', 'Export');
  await page.getByRole('button', { name: 'Start export' }).click();
  const job = await newestJob(page);
  await job.card.getByRole('button', { name: 'Cancel' }).click();

  // Cancel is built by `jobops`: until it is merged the API answers 404 and the console shows its sentence.
  const probe = await api('POST', '/jobs/no-such-job/cancel');
  const routed = !String(probe.json.error_msg ?? '').startsWith('No route for');
  if (routed) {
    await status(job.card, 'cancelled');
    assert.equal(await job.card.getByRole('button', { name: 'Cancel' }).count(), 0);
  } else {
    const alert = job.card.getByRole('alert');
    await alert.waitFor(WAIT);
    assert.equal(await alert.textContent(), `No route for POST /oserve/v1/jobs/${job.id}/cancel. (not_found)`);
  }
  await shot('06-cancel');
});

test('a failed import shows its errors by line and links the error report', { timeout: 300_000 }, async () => {
  const { page, shot } = browser;
  const created = await api('POST', '/table/', {
    name: 'scores',
    schema: {
      fields: [
        { name: 'player', type: 'string' },
        { name: 'score', type: 'integer' },
      ],
    },
  });
  assert.equal(created.status, 201);
  await openTable(page, 'scores', 'Import');
  await dropFile(page, page.getByRole('tabpanel').locator('.dropzone'), 'scores.csv', 'player,score\nann,10\nbob,ten\ncid,30\ndee,4.5\n');
  await page.getByRole('button', { name: 'Start import' }).click();
  const job = await newestJob(page);
  await status(job.card, 'failed');
  const errors = (await job.card.locator('.job-errors').textContent()) ?? '';
  assert.match(errors, /line 3/);
  assert.match(errors, /line 5/);
  assert.doesNotMatch(errors, /line [24]\b/);
  assert.equal(await job.card.getByRole('link', { name: 'Error report (CSV)' }).count(), 1);
  assert.equal(await job.card.getByRole('button', { name: 'Retry' }).count(), 1);
  const rows = await api('GET', `/table/${Number(created.json.id)}/record/`);
  assert.equal((rows.json.meta as { total_count: number }).total_count, 0, 'all or nothing: no row written');
  await shot('07-failed-import');

  // The same page in 简体中文, from the language toggle.
  await page.getByLabel('Language').selectOption('zh-CN');
  await page.getByRole('heading', { name: '任务', level: 1 }).waitFor(WAIT);
  await job.card.locator('[data-testid=status]', { hasText: '失败' }).waitFor(WAIT);
  await shot('08-jobs-zh');
  await page.getByLabel('语言').selectOption('en');
});

test('a file dropped on the tables page becomes a new table with an inferred schema', { timeout: 300_000 }, async () => {
  const { page, shot } = browser;
  await page.getByRole('link', { name: 'Tables', exact: true }).click();
  await page.getByLabel('New table name').fill('cities');
  const ndjson = '{"city":"Lagos","population":15388000,"capital":false}\n{"city":"Oslo","population":709037,"capital":true}\n';
  await dropFile(page, page.locator('.dropzone'), 'cities.ndjson', ndjson, 'application/x-ndjson');
  await shot('09-import-new-table');
  await page.getByRole('button', { name: 'Start import' }).click();
  const job = await newestJob(page);
  await status(job.card, 'succeeded');
  const text = (await job.card.textContent()) ?? '';
  assert.match(text, /Inferred schema: .*city \(string\).*population \(integer\).*capital \(boolean\)/);
  await page.getByRole('link', { name: 'Tables', exact: true }).click();
  await page.getByTestId('row-count-cities').waitFor(WAIT);
  assert.equal(await page.getByTestId('row-count-cities').textContent(), '2');
  await shot('10-tables');
});
