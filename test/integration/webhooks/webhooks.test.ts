import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { sleep } from '../../helpers/wait.js';

const SCHEMA = { fields: [{ name: 'n', type: 'integer' }] };

interface Received {
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  body: { event: string; id: string; status: string; [k: string]: unknown };
}

/** A webhook receiver on loopback: records every request; answers the queued statuses first, then 200. */
async function startReceiver(): Promise<{
  port: number;
  received: Received[];
  failNext(...statuses: number[]): void;
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const answers: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({ headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) });
      res.statusCode = answers.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    failNext: (...s) => answers.push(...s),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** What a receiver does: recompute the HMAC of the exact body bytes and compare in constant time. */
function signatureValid(r: Received, secret: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`);
  const got = Buffer.from(String(r.headers['x-tableport-signature'] ?? ''));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

async function until(what: string, check: () => boolean | Promise<boolean>, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('webhooks', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let hookUrl: string;
  before(async () => {
    receiver = await startReceiver();
    hookUrl = `http://127.0.0.1:${receiver.port}/hook`;
    server = await startTestServer({
      env: { OUTBOUND_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, WEBHOOK_BACKOFF_MS: '100', WEBHOOK_ATTEMPTS: '4' },
    });
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  const forJob = (jobId: string) => receiver.received.filter((r) => r.body.id === jobId);

  test('a succeeded and a failed job each deliver once, signed, with the job as GET /jobs/:id shows it', async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    const created = await c
      .post('/oserve/v1/webhooks')
      .send({ url: hookUrl, events: ['job.succeeded', 'job.failed'], secret: 's3cret-key' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.url, hookUrl);
    assert.deepEqual(created.body.events, ['job.succeeded', 'job.failed']);
    assert.equal(created.body.has_secret, true);
    assert.equal(JSON.stringify(created.body).includes('s3cret-key'), false, 'the secret is never returned');
    // Only failures, and no secret: unsigned.
    const failedOnly = await c.post('/oserve/v1/webhooks').send({ url: `${hookUrl}?only=failed`, events: ['job.failed'] });
    assert.equal(failedOnly.status, 201);
    assert.equal(failedOnly.body.has_secret, false);
    const list = await c.get('/oserve/v1/webhooks');
    assert.deepEqual(
      list.body.objects.map((w: { id: string }) => w.id),
      [created.body.id, failedOnly.body.id],
    );
    const { rows } = await server.db.query('SELECT secret FROM tableport.webhooks WHERE id = $1', [created.body.id]);
    assert.equal(String(rows[0].secret).includes('s3cret-key'), false, 'stored sealed');

    const t = await createTable(server, token, 'hooked', SCHEMA);
    const ok = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('n\n1\n2\n'), 'ok.csv');
    const t2 = await createTable(server, token, 'hooked2', SCHEMA);
    const bad = await c.post(`/oserve/v1/table/${t2}/import/`).attach('file', Buffer.from('n\nnope\n'), 'bad.csv');
    const okJob = await waitForJob(server, token, ok.body.job_id);
    const badJob = await waitForJob(server, token, bad.body.job_id);
    assert.equal(okJob.status, 'succeeded');
    assert.equal(badJob.status, 'failed');
    await until('three deliveries', () => forJob(okJob.id).length >= 1 && forJob(badJob.id).length >= 2);

    const [succeeded] = forJob(okJob.id);
    assert.ok(succeeded);
    assert.equal(succeeded.headers['x-tableport-event'], 'job.succeeded');
    assert.ok(signatureValid(succeeded, 's3cret-key'), 'a valid signature');
    assert.equal(signatureValid(succeeded, 'another-key'), false);
    // The mail runs beside the delivery: its status may have moved on since.
    const { mail_status: _m, ...shown } = (await c.get(`/oserve/v1/jobs/${okJob.id}`)).body;
    const { mail_status: _d, ...delivered } = succeeded.body;
    assert.deepEqual(delivered, { event: 'job.succeeded', ...shown });
    assert.equal(succeeded.body.rows, 2);

    const signed = forJob(badJob.id).find((r) => r.headers['x-tableport-signature']);
    const unsigned = forJob(badJob.id).find((r) => !r.headers['x-tableport-signature']);
    assert.ok(signed && unsigned, 'the failure went to both webhooks, signed only where a secret is set');
    assert.ok(signatureValid(signed, 's3cret-key'));
    assert.equal(signed.body.event, 'job.failed');
    assert.equal(signed.body.status, 'failed');
    assert.equal((signed.body.errors as Array<{ error_code: string }>)[0]?.error_code, 'invalid_row');

    // The delivery log, and nothing delivered twice (checked after the log shows every delivery).
    await until('the log', async () => (await c.get(`/oserve/v1/webhooks/${created.body.id}/deliveries`)).body.objects.length >= 2);
    const log = (await c.get(`/oserve/v1/webhooks/${created.body.id}/deliveries`)).body;
    assert.equal(log.meta.total_count, 2);
    for (const d of log.objects) {
      assert.equal(d.http_status, 200);
      assert.equal(d.attempt, 1);
      assert.equal(d.error, null);
      assert.equal(typeof d.created_at, 'number');
    }
    assert.deepEqual(log.objects.map((d: { job_id: string; event: string }) => `${d.event} ${d.job_id}`).sort(), [
      `job.failed ${badJob.id}`,
      `job.succeeded ${okJob.id}`,
    ]);
    assert.equal(forJob(okJob.id).length, 1, 'the success was delivered once (to the hook that asked for it)');
    assert.equal(forJob(badJob.id).length, 2, 'the failure once to each hook');
  });

  test('a receiver answering 500 is tried again, with backoff, until it takes the event', async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    const hook = await c.post('/oserve/v1/webhooks').send({ url: hookUrl, events: ['job.succeeded'], secret: 'k' });
    assert.equal(hook.status, 201);
    receiver.failNext(500, 503);
    const t = await createTable(server, token, 'flaky', SCHEMA);
    const res = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('n\n1\n'), 'a.csv');
    assert.equal((await waitForJob(server, token, res.body.job_id)).status, 'succeeded');
    await until('the third attempt', () => forJob(res.body.job_id).length >= 3);
    for (const r of forJob(res.body.job_id)) assert.ok(signatureValid(r, 'k'));
    await until('the log', async () => (await c.get(`/oserve/v1/webhooks/${hook.body.id}/deliveries`)).body.objects.length >= 3);
    const log = (await c.get(`/oserve/v1/webhooks/${hook.body.id}/deliveries`)).body.objects as Array<{
      attempt: number;
      http_status: number;
      error: string | null;
    }>;
    assert.deepEqual(
      log.map((d) => [d.attempt, d.http_status]),
      [
        [3, 200],
        [2, 503],
        [1, 500],
      ],
    );
    assert.match(log[2]?.error ?? '', /HTTP 500/);
    assert.equal(forJob(res.body.job_id).length, 3);
  });

  test('refused addresses are refused at registration and never delivered to', async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    const refused = [
      `http://127.0.0.1:${receiver.port + 1}/hook`, // loopback, but not the allowed port
      `http://localhost:${receiver.port}/hook`, // the allow-list names 127.0.0.1, not this name
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.7/hook',
      'http://192.168.1.1/hook',
      'http://[::1]/hook',
    ];
    for (const url of refused) {
      const res = await c.post('/oserve/v1/webhooks').send({ url, events: ['job.succeeded', 'job.failed'] });
      assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error_code, 'invalid_parameter', url);
    }
    for (const body of [
      { url: 'ftp://example.com/x', events: ['job.failed'] },
      { url: hookUrl, events: [] },
      { url: hookUrl, events: ['job.started'] },
      { events: ['job.failed'] },
    ]) {
      const res = await c.post('/oserve/v1/webhooks').send(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error_code, 'invalid_parameter');
    }
    assert.deepEqual((await c.get('/oserve/v1/webhooks')).body.objects, [], 'nothing was registered');
    const before = receiver.received.length;
    const t = await createTable(server, token, 'quiet', SCHEMA);
    const res = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('n\n1\n'), 'a.csv');
    assert.equal((await waitForJob(server, token, res.body.job_id)).status, 'succeeded');
    assert.equal(receiver.received.length, before, 'a user without webhooks gets no delivery');

    // A webhook whose address became refused after it was registered (written here straight into
    // the table, as an older allow-list would have let it in) is refused at each delivery too.
    const elsewhere = await startReceiver();
    try {
      const { rows } = await server.db.query(
        'SELECT id FROM tableport.users WHERE id = (SELECT user_id FROM tableport.jobs WHERE id = $1)',
        [res.body.job_id],
      );
      const hookId = '00000000-0000-4000-8000-000000000001';
      await server.db.query(`INSERT INTO tableport.webhooks (id, user_id, url, events) VALUES ($1, $2, $3, '{job.succeeded}')`, [
        hookId,
        rows[0].id,
        `http://127.0.0.1:${elsewhere.port}/hook`,
      ]);
      const t2 = await createTable(server, token, 'quiet2', SCHEMA);
      const res2 = await c.post(`/oserve/v1/table/${t2}/import/`).attach('file', Buffer.from('n\n1\n'), 'a.csv');
      assert.equal((await waitForJob(server, token, res2.body.job_id)).status, 'succeeded');
      await until('every attempt', async () => (await c.get(`/oserve/v1/webhooks/${hookId}/deliveries`)).body.objects.length >= 4);
      const log = (await c.get(`/oserve/v1/webhooks/${hookId}/deliveries`)).body.objects as Array<{
        http_status: number | null;
        error: string;
      }>;
      for (const d of log) {
        assert.equal(d.http_status, null);
        assert.match(d.error, /Refusing to connect to 127\.0\.0\.1/);
      }
      assert.equal(elsewhere.received.length, 0, 'never delivered to');
    } finally {
      await elsewhere.close();
    }
  });

  test('one user may have 20 webhooks', async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    for (let i = 0; i < 20; i++)
      assert.equal((await c.post('/oserve/v1/webhooks').send({ url: `${hookUrl}?n=${i}`, events: ['job.failed'] })).status, 201);
    const more = await c.post('/oserve/v1/webhooks').send({ url: hookUrl, events: ['job.failed'] });
    assert.equal(more.status, 400);
    assert.equal(more.body.error_code, 'invalid_parameter');
    assert.match(more.body.error_msg, /20 webhooks/);
  });

  test("another user's webhook is 404, and gets none of this user's events", async () => {
    const owner = await server.createUser();
    const other = await server.createUser();
    const hook = await client(server, owner.token)
      .post('/oserve/v1/webhooks')
      .send({ url: hookUrl, events: ['job.succeeded'] });
    assert.equal(hook.status, 201);
    const o = client(server, other.token);
    assert.equal((await o.delete(`/oserve/v1/webhooks/${hook.body.id}`)).status, 404);
    const log = await o.get(`/oserve/v1/webhooks/${hook.body.id}/deliveries`);
    assert.equal(log.status, 404);
    assert.equal(log.body.error_code, 'not_found');
    assert.deepEqual((await o.get('/oserve/v1/webhooks')).body.objects, []);
    assert.equal((await o.delete('/oserve/v1/webhooks/not-a-uuid')).status, 404);

    const t = await createTable(server, other.token, 'others', SCHEMA);
    const res = await o.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('n\n1\n'), 'a.csv');
    assert.equal((await waitForJob(server, other.token, res.body.job_id)).status, 'succeeded');
    assert.equal(forJob(res.body.job_id).length, 0);

    const own = client(server, owner.token);
    assert.equal((await own.delete(`/oserve/v1/webhooks/${hook.body.id}`)).status, 204);
    assert.deepEqual((await own.get('/oserve/v1/webhooks')).body.objects, []);
    assert.equal((await own.delete(`/oserve/v1/webhooks/${hook.body.id}`)).status, 404);
  });
});
