import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../../src/logger.js';
import { metrics } from '../../../src/metrics/metrics.js';
import { startMetricsServer } from '../../../src/metrics/metrics-server.js';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { parsePrometheus, sampleValue, type Sample } from './prometheus-text.js';
import { sleep } from '../../helpers/wait.js';

const METRICS_TOKEN = 'metrics-token-for-the-test-0123456789';

describe('GET /metrics', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer({ env: { METRICS_TOKEN } });
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(`${server.baseUrl}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text()).samples;
  }

  async function scrapeUntil(ok: (s: Sample[]) => boolean, what: string): Promise<Sample[]> {
    for (let i = 0; i < 200; i++) {
      const s = await scrape();
      if (ok(s)) return s;
      await sleep(100);
    }
    throw new Error(`metrics never showed ${what}`);
  }

  test('refused without the METRICS_TOKEN or with another one', async () => {
    const none = await fetch(`${server.baseUrl}/metrics`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error_code: string }).error_code, 'unauthorized');
    const wrong = await fetch(`${server.baseUrl}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}x` } });
    assert.equal(wrong.status, 401);
    // An API token is not the metrics token.
    const api = await fetch(`${server.baseUrl}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(api.status, 401);
  });

  test('an export moves the job, row, mail, queue and HTTP metrics, labelled by route pattern', async () => {
    const before = await scrape();
    const c = client(server, token);
    const tableId = await createTable(server, token, 'metered', { fields: [{ name: 'title', type: 'string' }] });
    assert.equal((await c.post(`/oserve/v1/table/${tableId}/record/`).send([{ title: 'a' }, { title: 'b' }, { title: 'c' }])).status, 201);
    const res = await c.post(`/oserve/v1/table/${tableId}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201);
    const job = await waitForJob(server, token, res.body.job_id as string);
    assert.equal(job.status, 'succeeded');
    await c.get(`/oserve/v1/jobs/${job.id}`).expect(200);

    const sent = (s: Sample[]) => sampleValue(s, 'tableport_mails_total', { outcome: 'sent' });
    const after = await scrapeUntil((s) => sent(s) > sent(before), "the export's mail sent");

    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    assert.equal(delta('tableport_jobs_total', { type: 'export', outcome: 'succeeded' }), 1);
    assert.equal(delta('tableport_jobs_total', { type: 'export', outcome: 'failed' }), 0);
    assert.equal(delta('tableport_job_duration_seconds_count', { type: 'export', outcome: 'succeeded' }), 1);
    assert.equal(delta('tableport_rows_total', { direction: 'exported' }), 3);
    assert.equal(delta('tableport_rows_total', { direction: 'imported' }), 0);
    assert.ok(delta('tableport_queue_wait_seconds_count', { queue: 'export' }) >= 1);
    assert.ok(delta('tableport_queue_wait_seconds_count', { queue: 'email' }) >= 1);

    const route = '/oserve/v1/table/:table_id/export/';
    assert.equal(delta('tableport_http_requests_total', { method: 'POST', route, status: '201' }), 1);
    assert.equal(delta('tableport_http_request_duration_seconds_count', { method: 'POST', route, status: '201' }), 1);
    assert.ok(delta('tableport_http_requests_total', { method: 'GET', route: '/oserve/v1/jobs/:job_id', status: '200' }) >= 2);
    // No id of a table, job or row ever becomes a label value.
    const routes = new Set(after.filter((s) => s.name === 'tableport_http_requests_total').map((s) => s.labels.route));
    for (const r of routes) assert.ok(!r?.includes(String(tableId)) && !r?.includes(job.id), `raw path in a label: ${r}`);

    // Queue depth is read from BullMQ at the scrape, for every queue and state.
    for (const queue of ['export', 'import', 'email', 'maintenance']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) {
        assert.ok(
          after.some((s) => s.name === 'tableport_queue_jobs' && s.labels.queue === queue && s.labels.state === state),
          `${queue}/${state}`,
        );
      }
    }
    assert.ok(sampleValue(after, 'process_resident_memory_bytes') > 0);
    assert.ok(after.some((s) => s.name === 'nodejs_heap_size_used_bytes'));
  });

  test('imports: a good file adds its rows as imported, a bad one counts a failed import and moves no row', async () => {
    const before = await scrape();
    const c = client(server, token);
    const good = await createTable(server, token, 'imported_ok', { fields: [{ name: 'qty', type: 'integer' }] });
    const ok = await c.post(`/oserve/v1/table/${good}/import/`).attach('file', Buffer.from('qty\n1\n2\n3\n4\n'), 'ok.csv');
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal((await waitForJob(server, token, ok.body.job_id as string)).status, 'succeeded');
    const bad = await createTable(server, token, 'imported_bad', { fields: [{ name: 'qty', type: 'integer' }] });
    const ko = await c.post(`/oserve/v1/table/${bad}/import/`).attach('file', Buffer.from('qty\n1\nx\n'), 'bad.csv');
    assert.equal(ko.status, 201, JSON.stringify(ko.body));
    assert.equal((await waitForJob(server, token, ko.body.job_id as string)).status, 'failed');

    const failedImports = (s: Sample[]) => sampleValue(s, 'tableport_jobs_total', { type: 'import', outcome: 'failed' });
    const after = await scrapeUntil((s) => failedImports(s) > failedImports(before), 'the failed import');
    const delta = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    assert.equal(delta('tableport_jobs_total', { type: 'import', outcome: 'succeeded' }), 1);
    assert.equal(delta('tableport_jobs_total', { type: 'import', outcome: 'failed' }), 1);
    assert.equal(delta('tableport_job_duration_seconds_count', { type: 'import', outcome: 'failed' }), 1);
    assert.equal(delta('tableport_rows_total', { direction: 'imported' }), 4);
  });

  test('a request no route matched is counted as "unmatched", not by its path', async () => {
    const before = await scrape();
    assert.equal((await fetch(`${server.baseUrl}/no/such/place-12345`)).status, 404);
    const after = await scrape();
    assert.equal(
      sampleValue(after, 'tableport_http_requests_total', { route: 'unmatched', status: '404' }) -
        sampleValue(before, 'tableport_http_requests_total', { route: 'unmatched', status: '404' }),
      1,
    );
    assert.ok(!after.some((s) => s.labels.route?.includes('place-12345')));
  });

  test('a route that fails is still labelled by its pattern, under the version the caller used', async () => {
    const before = await scrape();
    const res = await client(server, token).get('/oserve/v1.5/table/987654321/');
    assert.equal(res.status, 404);
    const after = await scrape();
    const labels = { method: 'GET', route: '/oserve/v1.5/table/:table_id/', status: '404' };
    assert.equal(
      sampleValue(after, 'tableport_http_requests_total', labels) - sampleValue(before, 'tableport_http_requests_total', labels),
      1,
    );
  });
});

describe('mail failures', () => {
  let server: TestServer;

  before(async () => {
    // Nothing listens on port 9: every SMTP attempt fails.
    server = await startTestServer({ env: { SMTP_URL: 'smtp://127.0.0.1:9', MAIL_ATTEMPTS: '2', MAIL_BACKOFF_MS: '50' } });
  });
  after(() => server.close());

  test('a mail that cannot be sent is counted as failed, once per attempt', async () => {
    const failed = async () => {
      const res = await fetch(`${server.baseUrl}/metrics`);
      return sampleValue(parsePrometheus(await res.text()).samples, 'tableport_mails_total', { outcome: 'failed' });
    };
    const before = await failed();
    const { token } = await server.createUser();
    const tableId = await createTable(server, token, 'unmailed', { fields: [{ name: 'title', type: 'string' }] });
    const res = await client(server, token).post(`/oserve/v1/table/${tableId}/export/`).send({ file_type: 'json', mode: 'all' });
    assert.equal(res.status, 201);
    assert.equal((await waitForJob(server, token, res.body.job_id as string)).status, 'succeeded');
    for (let i = 0; i < 200 && (await failed()) - before < 2; i++) await sleep(100);
    assert.equal((await failed()) - before, 2);
  });
});

describe("a worker's METRICS_PORT", () => {
  test('serves the same registry, behind the same token', async () => {
    const logger = createLogger('silent');
    const server = await startMetricsServer(metrics(), 0, METRICS_TOKEN, logger);
    try {
      const address = server.address();
      assert.ok(address && typeof address === 'object');
      const url = `http://127.0.0.1:${address.port}/metrics`;
      assert.equal((await fetch(url)).status, 401);
      const res = await fetch(url, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
      assert.equal(res.status, 200);
      const { samples, types } = parsePrometheus(await res.text());
      assert.equal(types.get('tableport_jobs_total'), 'counter');
      assert.equal(types.get('tableport_job_duration_seconds'), 'histogram');
      assert.ok(samples.some((s) => s.name === 'process_resident_memory_bytes'));
      assert.equal((await fetch(`http://127.0.0.1:${address.port}/other`)).status, 404);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
