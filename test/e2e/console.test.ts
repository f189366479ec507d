/**
 * The web console in a real browser against a real server: sign in, create a table, import by
 * drag-and-drop, export and download, cancel a big export, read a failed import's errors, the jobs
 * table filtered and paged with a job's details beside it, a schedule made, edited and deleted, and
 * the whole walk again with the keyboard alone, in a narrow window, in 简体中文.
 *
 * `DOCS_SCREENSHOTS=1` also writes the README's pictures (docs/console-jobs.png, docs/console-import.png).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { JobName, QueueName } from '../../src/jobs/job-names.js';
import { createLogger } from '../../src/logger.js';
import { createQueueBackend } from '../../src/queue/index.js';
import { waitForJob } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { openBrowser, type Browser } from './helpers/browser.js';

const WAIT = { timeout: 120_000 };
const DOCS = process.env.DOCS_SCREENSHOTS === '1';
const ADMIN_TOKEN = 'admin-token-for-the-console-test-0123';
let server: TestServer;
let browser: Browser;
let token: string;
let userId: number;

before(async () => {
  server = await startTestServer({ env: { ADMIN_TOKEN } });
  ({ token, userId } = await server.createUser());
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

/** A picture for the README, taken from this run when asked for. */
async function docsShot(page: Page, name: string): Promise<void> {
  if (DOCS) await page.screenshot({ path: fileURLToPath(new URL(`../../docs/${name}.png`, import.meta.url)) });
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

/** The newest job's row in the jobs table (newest first), and its id. */
async function newestJob(page: Page): Promise<{ row: Locator; id: string }> {
  await page.waitForURL(/#\/jobs$/, WAIT);
  const first = page.locator('table.jobs-table tbody tr').first();
  await first.waitFor(WAIT);
  const id = await first.getAttribute('data-job-id');
  assert.ok(id, 'a job row carries its id');
  return { row: page.locator(`tr[data-job-id="${id}"]`), id };
}

/** Opens a job's details beside the table from its row's link, as a person clicks it. */
async function openJob(page: Page, id: string): Promise<Locator> {
  await page.locator(`tr[data-job-id="${id}"] th a`).click();
  const panel = page.locator(`[data-testid=job-panel][data-job-id="${id}"]`);
  // Loaded: the job's status is shown (the panel says "Loading…" until then).
  await panel.locator('[data-testid=status]').waitFor(WAIT);
  return panel;
}

const status = (where: Locator, word: string) => where.locator('[data-testid=status]', { hasText: word }).waitFor(WAIT);

async function openTable(page: Page, name: string, tab: 'Rows' | 'Import' | 'Export'): Promise<void> {
  await page.getByRole('link', { name: 'Tables', exact: true }).click();
  await page.getByRole('link', { name, exact: true }).click();
  await page.getByRole('tab', { name: tab }).click();
}

/** In the page: is this element the focused one? (The test's TypeScript has no DOM types.) */
const isFocused = (el: unknown): boolean =>
  el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement;

/** Presses Tab until `target` has the focus: the keyboard reaches it, in a bounded number of steps. */
async function tabTo(page: Page, target: Locator, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate(isFocused).catch(() => false)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${target.toString()}`);
}

/** Nothing sticks out sideways: the page scrolls only up and down (wide tables scroll in their own box). */
async function noSideways(page: Page, where: string): Promise<void> {
  const [scroll, width, wide] = (await page.evaluate(
    `[document.documentElement.scrollWidth, window.innerWidth, [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map((e) => e.tagName + '.' + e.className)]`,
  )) as [number, number, string[]];
  assert.ok(scroll <= width, `${where}: the page is ${scroll}px wide in a ${width}px window (${wide.join(', ')})`);
}

/** An import through the API's multipart form (what the console sends), waited for to its end. */
async function importCsv(tableId: number, csv: string, fields: Record<string, string> = {}): Promise<string> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('file', new Blob([csv], { type: 'text/csv' }), 'file.csv');
  const res = await fetch(`${server.baseUrl}/oserve/v1/table/${tableId}/import/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = (await res.json()) as { job_id: string };
  assert.equal(res.status, 201, JSON.stringify(body));
  const job = await waitForJob(server, token, body.job_id, 60_000);
  assert.equal(job.status, 'succeeded');
  return body.job_id;
}

test('the page is served without a token, with a self-only CSP and cache headers; GET / leads to it', async () => {
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
  const root = await fetch(`${server.baseUrl}/`, { redirect: 'manual' });
  assert.equal(root.status, 302);
  assert.equal(root.headers.get('location'), '/console/');
});

test('a person signs in, creates a table, imports a CSV by drag-and-drop and exports it as CSV', { timeout: 300_000 }, async () => {
  const { page, shot } = browser;
  await page.goto(`${server.baseUrl}/`);
  await page.waitForURL(/\/console\/$/, WAIT);

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
  await docsShot(page, 'console-import');
  await panel.getByRole('button', { name: 'Start import' }).click();

  const imported = await newestJob(page);
  await page.getByRole('status').getByText(`Import queued as job ${imported.id}.`).waitFor(WAIT);
  await status(imported.row, 'succeeded');
  assert.equal(await imported.row.locator('td.num').first().textContent(), '5');
  const details = await openJob(page, imported.id);
  await status(details, 'succeeded');
  assert.equal(await details.getByTestId('progress').textContent(), '100%');
  assert.equal(await details.getByTestId('rows').textContent(), '5');
  assert.match((await details.textContent()) ?? '', /people\.csv/);

  // The rows: times as local dates (never raw Unix seconds), then the where box narrowing them.
  await openTable(page, 'people', 'Rows');
  await page.getByText('Rows 1–5 of 5').waitFor(WAIT);
  const where = page.getByLabel('where (MinApp JSON)');
  assert.match((await where.getAttribute('placeholder')) ?? '', /"name"/, 'the example query names a field of this table');
  const firstRow = page.getByRole('tabpanel').locator('tbody tr').first();
  assert.equal(await firstRow.locator('time').count(), 2, 'created_at and updated_at are times');
  const cells = await firstRow.locator('td').allTextContents();
  assert.ok(!cells.some((c) => /^\d{9,}$/.test(c.trim())), `no raw Unix seconds in ${JSON.stringify(cells)}`);
  await where.fill('{"age": {"$gte": 33}}');
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
  await status(exported.row, 'succeeded');
  const exportPanel = await openJob(page, exported.id);
  await shot('05-jobs');
  const [download] = await Promise.all([page.waitForEvent('download', WAIT), exportPanel.getByRole('link', { name: 'Download' }).click()]);
  const path = await download.path();
  const lines = (await readFile(path, 'utf8')).trim().split('\n');
  assert.equal(lines[0], 'id,created_at,updated_at,created_by,name,age');
  assert.deepEqual(
    lines.slice(1).map((l) => l.split(',').slice(4).join(',')),
    people.map((n, i) => `${n},${30 + i}`),
  );
  assert.deepEqual(browser.pageErrors, [], 'the page logged no errors (no CSP refusals)');
});

test('a big export is cancelled from its details', { timeout: 300_000 }, async () => {
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
  const details = await openJob(page, job.id);
  await details.getByRole('button', { name: 'Cancel' }).click();
  await status(details, 'cancelled');
  await status(job.row, 'cancelled');
  await page.getByRole('status').getByText(`Job ${job.id} was cancelled.`).waitFor(WAIT);
  assert.equal(await details.getByRole('button', { name: 'Cancel' }).count(), 0);
  assert.equal(await details.getByRole('button', { name: 'Retry' }).count(), 1);
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
  await status(job.row, 'failed');
  const details = await openJob(page, job.id);
  const errors = (await details.locator('.job-errors').textContent()) ?? '';
  assert.match(errors, /line 3/);
  assert.match(errors, /line 5/);
  assert.doesNotMatch(errors, /line [24]\b/);
  assert.equal(await details.getByRole('link', { name: 'Error report (CSV)' }).count(), 1);
  assert.equal(await details.getByRole('button', { name: 'Retry' }).count(), 1);
  const rows = await api('GET', `/table/${Number(created.json.id)}/record/`);
  assert.equal((rows.json.meta as { total_count: number }).total_count, 0, 'all or nothing: no row written');
  await shot('07-failed-import');

  // The same page in 简体中文, from the language toggle: words, statuses and the server's errors.
  await page.getByLabel('Language').selectOption('zh-CN');
  await page.getByRole('heading', { name: '任务', level: 1 }).waitFor(WAIT);
  await status(details, '失败');
  const zhErrors = (await details.locator('.job-errors').textContent()) ?? '';
  assert.match(zhErrors, /第 3 行/);
  assert.match(zhErrors, /第 5 行/);
  assert.match(zhErrors, /服务器原文/, "the server's English wording is one click away");
  assert.equal(await details.getByRole('link', { name: '错误报告（CSV）' }).count(), 1);
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
  await status(job.row, 'succeeded');
  const details = await openJob(page, job.id);
  const inferred = (await details.getByTestId('inferred-schema').textContent()) ?? '';
  assert.match(inferred, /Inferred schema: city: string \(text\); population: integer; capital: boolean/);
  await page.getByRole('link', { name: 'Tables', exact: true }).click();
  await page.getByTestId('row-count-cities').waitFor(WAIT);
  assert.equal(await page.getByTestId('row-count-cities').textContent(), '2');
  await shot('10-tables');
});

test('the jobs table: filtered by status, type and table, paged, and bundle jobs named in words', { timeout: 300_000 }, async () => {
  const { page, shot } = browser;
  const tables = (await api('GET', '/table/')).json.objects as Array<{ id: number; name: string }>;
  const cities = tables.find((tb) => tb.name === 'cities');
  assert.ok(cities);
  // A month of nightly exports of `cities`, older than everything above: enough for two pages.
  await server.db.query(
    `INSERT INTO tableport.jobs (id, type, user_id, table_id, table_name, status, progress, rows, params, file_type, file_name,
                                 created_at, started_at, finished_at, updated_at, mail_sent_at, mail_status)
     SELECT gen_random_uuid(), 'export', $1, $2, 'cities', 'succeeded', 100, 2, '{"file_type": "csv", "mode": "all"}', 'csv',
            'cities-' || g || '.csv', now() - g * interval '1 day', now() - g * interval '1 day' + interval '2 seconds',
            now() - g * interval '1 day' + interval '75 seconds', now(), now(), 'sent'
       FROM generate_series(1, 24) g`,
    [userId, cities.id],
  );

  // The API's filters, which the page uses.
  const failed = await api('GET', '/jobs/?status=failed');
  assert.equal(failed.status, 200);
  const failedJobs = failed.json.objects as Array<{ status: string; type: string }>;
  assert.deepEqual(
    failedJobs.map((j) => `${j.type} ${j.status}`),
    ['import failed'],
  );
  const ofCities = await api('GET', `/jobs/?table_id=${cities.id}&limit=20`);
  assert.equal((ofCities.json.meta as { total_count: number }).total_count, 25);
  assert.equal((ofCities.json.meta as { next: string }).next, `/oserve/v1/jobs/?limit=20&offset=20&table_id=${cities.id}`);
  const two = await api('GET', '/jobs/?status=succeeded,cancelled&type=export');
  assert.ok((two.json.objects as Array<{ status: string }>).every((j) => ['succeeded', 'cancelled'].includes(j.status)));
  const bad = await api('GET', '/jobs/?status=finished');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error_code, 'invalid_parameter');
  assert.equal(bad.json.parameter, 'status');

  // A bundle export of two tables: its row says so, never `#null` or `bundle_export`.
  const bundle = await api('POST', '/data/export/', { tables: ['people', 'scores'] });
  assert.equal(bundle.status, 201);
  await page.getByRole('link', { name: 'Jobs', exact: true }).click();
  const bundleRow = page.locator(`tr[data-job-id="${String(bundle.json.job_id)}"]`);
  await status(bundleRow, 'succeeded');
  const bundleText = (await bundleRow.textContent()) ?? '';
  assert.match(bundleText, /bundle export/);
  assert.match(bundleText, /2 tables: people, scores/);
  assert.doesNotMatch(bundleText, /#null|bundle_export/);

  // Filters: the server narrows, the page says what it shows.
  await page.getByLabel('Status', { exact: true }).selectOption('failed');
  await page.locator('table.jobs-table tbody tr').first().locator('[data-testid=status]', { hasText: 'failed' }).waitFor(WAIT);
  assert.deepEqual(await page.locator('table.jobs-table tbody [data-testid=status]').allTextContents(), ['failed']);
  await page.getByLabel('Status', { exact: true }).selectOption('');
  // (Waits by locators: the page's CSP refuses the eval a string predicate needs.)
  const jobRows = page.locator('table.jobs-table tbody tr');
  await jobRows.nth(1).waitFor(WAIT);
  await page.getByLabel('Type', { exact: true }).selectOption('bundle_export');
  await jobRows.nth(1).waitFor({ ...WAIT, state: 'detached' });
  assert.match((await jobRows.textContent()) ?? '', /bundle export/);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByLabel('Table', { exact: true }).selectOption({ label: 'cities' });
  await page.getByText('Jobs 1–20 of 25').waitFor(WAIT);
  assert.equal(await jobRows.count(), 20);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByText('Jobs 21–25 of 25').waitFor(WAIT);
  const last = jobRows.last();
  assert.match((await last.textContent()) ?? '', /cities-24\.csv.*1 min 13 s/, 'a month-old export with its duration');
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByText('Jobs 1–20 of').waitFor(WAIT);
  await shot('11-jobs-filtered');

  // The README's picture: the jobs table with the failed import's details open beside it.
  const failedRow = page.locator('table.jobs-table tbody tr', { has: page.locator('[data-testid=status]', { hasText: 'failed' }) });
  const failedId = await failedRow.first().getAttribute('data-job-id');
  assert.ok(failedId);
  await openJob(page, failedId);
  await docsShot(page, 'console-jobs');
  await shot('12-jobs-details');
});

test('undo from the job panel: a refused undo says why, an undo job undoes the import', { timeout: 300_000 }, async () => {
  const { page, shot } = browser;
  const created = await api('POST', '/table/', {
    name: 'guests',
    schema: {
      fields: [
        { name: 'email', type: 'string' },
        { name: 'nights', type: 'integer' },
      ],
    },
  });
  assert.equal(created.status, 201);
  const tableId = Number(created.json.id);
  const first = await importCsv(tableId, 'email,nights\na@x.org,1\nb@x.org,2\n');
  // A row the import wrote is changed since: undoing it would lose that change.
  const rows = await api('GET', `/table/${tableId}/record/`);
  const ann = (rows.json.objects as Array<{ id: string; email: string }>).find((r) => r.email === 'a@x.org');
  assert.equal((await api('PUT', `/table/${tableId}/record/${ann?.id}/`, { nights: 9 })).status, 200);

  await page.goto(`${server.baseUrl}/console/#/jobs/${first}`);
  let panel = page.locator(`[data-testid=job-panel][data-job-id="${first}"]`);
  await status(panel, 'succeeded');
  assert.equal(await panel.locator('[data-testid=inserted]').textContent(), '2');
  page.once('dialog', (d) => void d.accept());
  await panel.getByRole('button', { name: 'Undo import' }).click();
  const alert = panel.getByRole('alert');
  await alert.waitFor(WAIT);
  assert.match((await alert.textContent()) ?? '', /cannot be undone.*changed.*\(undo_not_possible\)/s);
  await shot('20-undo-refused');

  // A second import (the next minute), undone: the console opens the undo job, which says what it did.
  server.clock.advance(61_000);
  const second = await importCsv(tableId, 'email,nights\nc@x.org,3\nd@x.org,4\ne@x.org,5\n');
  await page.goto(`${server.baseUrl}/console/#/jobs/${second}`);
  panel = page.locator(`[data-testid=job-panel][data-job-id="${second}"]`);
  await status(panel, 'succeeded');
  page.once('dialog', (d) => void d.accept());
  await panel.getByRole('button', { name: 'Undo import' }).click();
  const undo = page.locator('[data-testid=job-panel]').filter({ has: page.locator('[data-testid=undo-of]') });
  await status(undo, 'succeeded');
  assert.equal(await undo.locator('[data-testid=deleted]').textContent(), '3');
  assert.equal(((await undo.locator('[data-testid=undo-of]').textContent()) ?? '').trim(), second);
  const after = await api('GET', `/table/${tableId}/record/`);
  assert.equal((after.json.meta as { total_count: number }).total_count, 2, 'the second import’s rows are gone');
  // The import now names its undo, and offers no second one.
  await page.goto(`${server.baseUrl}/console/#/jobs/${second}`);
  panel = page.locator(`[data-testid=job-panel][data-job-id="${second}"]`);
  await panel.locator('[data-testid=undone-by]').waitFor(WAIT);
  assert.equal(await panel.getByRole('button', { name: 'Undo import' }).count(), 0);

  // In Chinese: the code's sentence, the server's English one click away.
  await page.goto(`${server.baseUrl}/console/#/jobs/${first}`);
  panel = page.locator(`[data-testid=job-panel][data-job-id="${first}"]`);
  await status(panel, 'succeeded');
  await page.getByLabel('Language').selectOption('zh-CN');
  page.once('dialog', (d) => void d.accept());
  await panel.getByRole('button', { name: '撤销导入' }).click();
  const zhAlert = panel.getByRole('alert');
  await zhAlert.getByText('服务器原文').waitFor(WAIT);
  assert.match((await zhAlert.textContent()) ?? '', /无法撤销/);
  await page.getByLabel('语言').selectOption('en');
  await shot('21-undo-done');
});

test('a schedule made from the export form: listed, paused and resumed, its runs linked to their jobs, edited, deleted', {
  timeout: 300_000,
}, async () => {
  const { page, shot } = browser;
  await openTable(page, 'guests', 'Export');
  await page.getByLabel('File type').selectOption('ndjson');
  await page.locator('summary', { hasText: 'Schedule this export' }).click();
  await page.getByLabel('At the times of a cron pattern').check();
  await page.getByLabel(/^Cron pattern/).fill('0 3 * * *');
  await page.getByLabel('Time zone').fill('Asia/Shanghai');
  await page.getByLabel('What each run exports').selectOption('changes');
  await page.getByRole('button', { name: 'Create schedule' }).click();
  await page.waitForURL(/#\/schedules\/[^/]+$/, WAIT);
  const id = decodeURIComponent(page.url().split('/').pop() ?? '');
  await page.getByRole('status').getByText('Schedule made: guests').waitFor(WAIT);
  const made = await api('GET', `/schedules/${id}`);
  assert.equal(made.status, 200);
  assert.equal(made.json.cron, '0 3 * * *');
  assert.equal(made.json.timezone, 'Asia/Shanghai');
  assert.equal(made.json.mode, 'changes');
  assert.equal((made.json.export as { file_type: string }).file_type, 'ndjson');
  const row = page.locator(`tr[data-schedule-id="${id}"]`);
  await row.getByRole('rowheader', { name: 'guests' }).waitFor(WAIT); // the table's name, once the tables are read
  const text = (await row.textContent()) ?? '';
  assert.match(text, /guests/);
  assert.match(text, /0 3 \* \* \*/);
  assert.match(text, /Asia\/Shanghai/);
  assert.match(text, /only what changed/);
  assert.equal(await row.locator('time').count(), 1, 'its next run is shown');
  await page.getByRole('heading', { name: 'Runs of the schedule of guests' }).waitFor(WAIT);
  await page.getByText('No runs yet.').waitFor(WAIT);

  // Pause and resume from the list.
  await row.getByRole('button', { name: 'Pause' }).click();
  await row.locator('[data-testid=schedule-status]', { hasText: 'paused' }).waitFor(WAIT);
  assert.equal((await api('GET', `/schedules/${id}`)).json.paused, true);
  assert.equal(await row.locator('time').count(), 0, 'no next run while paused');
  await row.getByRole('button', { name: 'Resume' }).click();
  await row.locator('[data-testid=schedule-status]', { hasText: 'active' }).waitFor(WAIT);
  assert.equal((await api('GET', `/schedules/${id}`)).json.paused, false);

  // A firing (what the scheduler enqueues at 03:00 in Shanghai) makes a run: listed, and a link to its job.
  const backend = await createQueueBackend(server.config, 'api', createLogger('silent'), server.clock);
  try {
    const maintenance = backend.queue(QueueName.Maintenance, {});
    server.clock.advance(61_000); // the table's minute, taken by the imports above, is over
    await maintenance.add(JobName.RunSchedule, { scheduleId: id, due: server.clock.now() }, { jobId: `console-fire-${id}` });
    const runId = await waitFor('the firing to make a run', async () => {
      const runs = (await api('GET', `/schedules/${id}/runs`)).json.objects as Array<{ id: string }>;
      return runs[0]?.id;
    });
    await waitForJob(server, token, runId, 60_000);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator(`[data-testid=schedule-runs] li[data-job-id="${runId}"] a`).click();
    const panel = page.locator(`[data-testid=job-panel][data-job-id="${runId}"]`);
    await status(panel, 'succeeded');
    assert.equal(await panel.locator('[data-testid=schedule-link]').getAttribute('href'), `#/schedules/${id}`);
  } finally {
    await backend.close();
  }
  await shot('22-schedule-run');

  // Edit: a form under the row, holding the schedule's own timing and mode, takes the focus; Cancel
  // closes it with nothing changed and gives the focus back to Edit.
  await page.goto(`${server.baseUrl}/console/#/schedules/${id}`);
  const edit = row.getByRole('button', { name: 'Edit' });
  await edit.click();
  const form = page.getByRole('form', { name: 'Edit the schedule of guests' });
  await form.waitFor(WAIT);
  assert.equal(await edit.getAttribute('aria-expanded'), 'true');
  await waitFor('the form to take the focus', () => form.getByLabel('At the times of a cron pattern').evaluate(isFocused));
  assert.equal(await form.getByLabel(/^Cron pattern/).inputValue(), '0 3 * * *');
  assert.equal(await form.getByLabel('Time zone').inputValue(), 'Asia/Shanghai');
  assert.equal(await form.getByLabel('What each run exports').inputValue(), 'changes');
  await form.getByLabel(/^Cron pattern/).fill('0 4 * * *');
  await form.getByRole('button', { name: 'Cancel' }).click();
  await form.waitFor({ ...WAIT, state: 'detached' });
  await waitFor('the focus to be back on Edit', () => edit.evaluate(isFocused));
  assert.match((await row.textContent()) ?? '', /0 3 \* \* \*/);
  assert.equal((await api('GET', `/schedules/${id}`)).json.cron, '0 3 * * *');

  // A cron pattern the server refuses: its sentence and code in the form, which stays open; nothing changes.
  const badCron = { cron: '61 25 * * *', timezone: 'Asia/Shanghai' };
  const refused = await api('PATCH', `/schedules/${id}`, badCron);
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error_code, 'invalid_parameter');
  const serverSays = String(refused.json.error_msg);
  assert.match(serverSays, /cron/);
  await edit.click();
  await form.getByLabel(/^Cron pattern/).fill(badCron.cron);
  await form.getByRole('button', { name: 'Save' }).click();
  const refusal = form.getByRole('alert');
  await refusal.waitFor(WAIT);
  const said = (await refusal.textContent()) ?? '';
  assert.ok(said.includes(serverSays), `the server's sentence is shown: ${said}`);
  assert.match(said, /\(invalid_parameter\)/);
  await shot('24-schedule-edit-refused');
  assert.equal((await api('GET', `/schedules/${id}`)).json.cron, '0 3 * * *');

  // Every 6 hours, all rows: saved; the row shows it, and so does the API.
  await form.getByLabel('Every so often').check();
  assert.equal(await form.getByLabel(/^Interval/).inputValue(), '1h');
  await form.getByLabel(/^Interval/).fill('6h');
  await form.getByLabel('What each run exports').selectOption('all');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').getByText('The schedule of guests was changed.').waitFor(WAIT);
  await form.waitFor({ ...WAIT, state: 'detached' });
  await waitFor('the focus to be back on Edit', () => edit.evaluate(isFocused));
  const edited = (await row.textContent()) ?? '';
  assert.match(edited, /every 6h/);
  assert.match(edited, /all rows/);
  assert.doesNotMatch(edited, /0 3 \* \* \*|only what changed/);
  const changed = await api('GET', `/schedules/${id}`);
  assert.equal(changed.json.every, '6h');
  assert.equal(changed.json.cron, null);
  assert.equal(changed.json.mode, 'all');

  // In Chinese: the form's words, and a refusal in the code's sentence with the server's one click
  // away; Escape closes the form unchanged. Then deleted.
  await page.goto(`${server.baseUrl}/console/#/schedules`);
  await page.getByLabel('Language').selectOption('zh-CN');
  await page.getByRole('heading', { name: '定时任务', level: 1 }).waitFor(WAIT);
  assert.match((await row.textContent()) ?? '', /每 6h.*全部行/);
  await row.getByRole('button', { name: '编辑' }).click();
  const zhForm = page.getByRole('form', { name: '编辑 guests 的定时任务' });
  await zhForm.getByLabel('按 cron 表达式').check();
  await zhForm.getByLabel(/^cron 表达式/).fill(badCron.cron);
  await zhForm.getByLabel('时区').fill(badCron.timezone);
  await zhForm.getByRole('button', { name: '保存' }).click();
  const zhRefusal = zhForm.getByRole('alert');
  await zhRefusal.getByText('服务器原文').waitFor(WAIT);
  const zhSaid = (await zhRefusal.textContent()) ?? '';
  assert.match(zhSaid, /请求中的参数无效。.*\(invalid_parameter\)/);
  assert.ok(zhSaid.includes(serverSays), "the server's English wording is one click away");
  await shot('25-schedule-edit-zh');
  await page.keyboard.press('Escape');
  await zhForm.waitFor({ ...WAIT, state: 'detached' });
  assert.equal((await api('GET', `/schedules/${id}`)).json.every, '6h');
  page.once('dialog', (d) => void d.accept());
  await row.getByRole('button', { name: '删除' }).click();
  await page.getByRole('status').getByText('guests 的定时任务已删除。').waitFor(WAIT);
  assert.equal((await api('GET', `/schedules/${id}`)).status, 404);
  await page.getByLabel('语言').selectOption('en');
});

test('an import previewed by a dry run, its columns mapped, upserted by a conflict_key', { timeout: 300_000 }, async () => {
  const { page, shot } = browser;
  const created = await api('POST', '/table/', {
    name: 'members',
    schema: {
      fields: [
        { name: 'email', type: 'string' },
        { name: 'name', type: 'string' },
      ],
    },
  });
  assert.equal(created.status, 201);
  const tableId = Number(created.json.id);
  assert.ok([200, 201].includes((await api('POST', `/table/${tableId}/record/`, { email: 'a@x.org', name: 'Old' })).status));

  await openTable(page, 'members', 'Import');
  const panel = page.getByRole('tabpanel');
  await dropFile(page, panel.locator('.dropzone'), 'members.csv', 'E-mail;Full name;Notes\na@x.org;Ann;vip\nb@x.org;Bob;\n');
  // The editor offers each column of the file, read in the browser.
  const mapping = panel.locator('[data-testid=mapping]');
  await mapping.waitFor(WAIT);
  assert.equal(await mapping.locator('tbody tr').count(), 3);
  await mapping.getByLabel('E-mail').selectOption('email');
  await mapping.getByLabel('Full name').selectOption('name');
  await mapping.getByLabel('Notes').selectOption({ label: 'drop this column' });
  await panel.locator('summary', { hasText: 'Import options' }).click();
  await panel.getByLabel(/^on_conflict/).selectOption('update');
  await panel.getByLabel(/^conflict_key/).fill('email');

  // The dry run: what would happen, the first rows as stored, each field with its column. Nothing written.
  await panel.getByRole('button', { name: 'Preview (dry run)' }).click();
  const preview = panel.locator('[data-testid=preview]');
  await preview.locator('[data-testid=preview-counts]').waitFor(WAIT);
  assert.equal(await preview.locator('[data-testid=preview-counts]').textContent(), '1 rows would be inserted, 1 updated, 0 skipped.');
  assert.equal(await preview.locator('th[data-field=email] [data-testid=source]').textContent(), 'E-mail');
  assert.equal(await preview.locator('th[data-field=name] [data-testid=source]').textContent(), 'Full name');
  assert.match((await preview.locator('[data-testid=preview-dropped]').textContent()) ?? '', /Notes/);
  const cells = (await preview.locator('tbody').textContent()) ?? '';
  assert.match(cells, /Ann/);
  assert.match(cells, /b@x\.org/);
  const before = await api('GET', `/table/${tableId}/record/`);
  assert.equal((before.json.meta as { total_count: number }).total_count, 1, 'a dry run writes nothing');
  await shot('23-import-preview');

  // The import itself, with the same mapping and key.
  await panel.getByRole('button', { name: 'Start import' }).click();
  const job = await newestJob(page);
  await status(job.row, 'succeeded');
  const details = await openJob(page, job.id);
  assert.equal(await details.locator('[data-testid=inserted]').textContent(), '1');
  assert.equal(await details.locator('[data-testid=updated]').textContent(), '1');
  const rows = (await api('GET', `/table/${tableId}/record/?order_by=email`)).json.objects as Array<Record<string, unknown>>;
  assert.deepEqual(
    rows.map((r) => [r.email, r.name, 'Notes' in r]),
    [
      ['a@x.org', 'Ann', false],
      ['b@x.org', 'Bob', false],
    ],
  );
});

test('keyboard only, in a narrow window, in 简体中文: sign in, export, read the job, and back', { timeout: 300_000 }, async () => {
  const { page, shot } = browser;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.baseUrl}/`);
  await page.waitForURL(/\/console\/$/, WAIT);
  const key = (k: string) => page.keyboard.press(k);

  // Sign out, switch to Chinese, sign in: every step from the keyboard.
  await tabTo(page, page.getByRole('button', { name: 'Sign out' }));
  await key('Enter');
  await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor(WAIT);
  await tabTo(page, page.getByLabel('Language'));
  await key('ArrowDown');
  await page.getByRole('heading', { name: '登录', level: 1 }).waitFor(WAIT);
  await noSideways(page, 'sign-in');
  await tabTo(page, page.getByLabel('API 令牌'));
  await page.keyboard.type('not-a-token');
  await key('Enter');
  const alert = page.getByRole('alert');
  await alert.waitFor(WAIT);
  assert.match((await alert.textContent()) ?? '', /令牌无效或已失效，请重新登录。/, "the server's message, in Chinese");
  await shot('13-zh-narrow-sign-in');
  await page.getByLabel('API 令牌').press('Control+A');
  await page.keyboard.type(token);
  await key('Enter');
  await page.getByRole('heading', { name: '数据表', level: 1 }).waitFor(WAIT);
  await noSideways(page, 'tables');

  // A table's rows: local times; then its export tab, by the arrow keys of the tab list.
  await tabTo(page, page.getByRole('link', { name: 'people', exact: true }));
  await key('Enter');
  await page.getByRole('heading', { name: /^people/, level: 1 }).waitFor(WAIT);
  await page.getByText('第 1–5 行，共 5 行').waitFor(WAIT);
  assert.equal(await page.getByRole('tabpanel').locator('tbody tr').first().locator('time').count(), 2);
  await tabTo(page, page.getByRole('tab', { name: '数据' }));
  await key('ArrowRight');
  await key('ArrowRight');
  await page.getByRole('tab', { name: '导出', selected: true }).waitFor(WAIT);
  await noSideways(page, 'export form');
  // `people` was just exported (through the API): the server refuses, and says why in Chinese.
  const people = (((await api('GET', '/table/')).json.objects ?? []) as Array<{ id: number; name: string }>).find(
    (tb) => tb.name === 'people',
  );
  server.clock.advance(61_000);
  assert.equal((await api('POST', `/table/${people?.id}/export/`, { file_type: 'csv', mode: 'all' })).status, 201);
  await tabTo(page, page.getByRole('button', { name: '开始导出' }));
  await key('Enter');
  await page.getByRole('alert').getByText('同一数据表每分钟只能发起一次该操作，请稍后再试。').waitFor(WAIT);
  server.clock.advance(61_000);
  await page.getByRole('button', { name: '开始导出' }).press('Enter');

  // The jobs table with the news in Chinese; it follows the language switch both ways.
  const job = await newestJob(page);
  const news = page.getByRole('status').filter({ hasText: job.id });
  await news.getByText(`导出任务 ${job.id} 已排队。`).waitFor(WAIT);
  await status(job.row, '成功');
  await noSideways(page, 'jobs');
  await tabTo(page, page.getByLabel('语言'));
  await key('ArrowUp');
  await news.getByText(`Export queued as job ${job.id}.`).waitFor(WAIT);
  await key('ArrowDown');
  await news.getByText(`导出任务 ${job.id} 已排队。`).waitFor(WAIT);
  assert.match((await page.locator('table.jobs-table').textContent()) ?? '', /打包导出.*2 张表：people, scores/);
  await shot('14-zh-narrow-jobs');

  // Its details take the narrow page; Escape goes back to the row's link.
  const link = page.locator(`#job-link-${job.id}`);
  await tabTo(page, link);
  await key('Enter');
  const details = page.locator(`[data-testid=job-panel][data-job-id="${job.id}"]`);
  await details.getByRole('heading', { name: '导出 · people', level: 2 }).waitFor(WAIT);
  await waitFor('the panel to take the focus', () => details.getByRole('heading', { level: 2 }).evaluate(isFocused));
  assert.equal(await page.locator('table.jobs-table').isVisible(), false, 'in a narrow window the details take the page');
  await status(details, '成功');
  assert.match((await details.textContent()) ?? '', /排队时间.*开始.*结束时间.*耗时/);
  await noSideways(page, 'job details');
  await shot('15-zh-narrow-details');
  await tabTo(page, details.getByRole('link', { name: '下载' }));
  await key('Escape');
  await page.waitForURL(/#\/jobs$/, WAIT);
  await page.locator('table.jobs-table').waitFor(WAIT);
  await page.locator(`#job-link-${job.id}:focus`).waitFor(WAIT);

  await page.setViewportSize({ width: 1200, height: 820 });
  assert.deepEqual(browser.pageErrors, [], 'the page logged no errors (no CSP refusals)');
});

test("the queue dashboard's sign-in page: the console's look, a labelled input, and its alert", { timeout: 120_000 }, async () => {
  const { page, shot } = browser;
  await page.goto(`${server.baseUrl}/admin/queues/`);
  await page.getByRole('heading', { name: 'Queue dashboard', level: 1 }).waitFor(WAIT);
  const input = page.getByLabel('Admin token');
  assert.ok(await input.evaluate(isFocused), 'the token input has the focus');
  await page.keyboard.type('not-the-admin-token');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').getByText('That is not the admin token.').waitFor(WAIT);
  assert.equal(await page.getByLabel('Admin token').getAttribute('aria-invalid'), 'true');
  await shot('16-admin-sign-in');
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/admin\/queues\/$/, WAIT);
  await page.locator('#root').waitFor({ ...WAIT, state: 'attached' });
});
