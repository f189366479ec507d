import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { client, createTable, download, waitForJob } from '../../helpers/api.js';
import { waitFor } from '../../helpers/wait.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { defined } from '../../helpers/defined.js';

const ROWS = [
  {
    id: 'r1',
    created_at: 1000,
    title: 'plain',
    qty: 1,
    price: 1.5,
    paid: true,
    due: '2024-01-01T00:00:00.000Z',
    tags: ['a'],
    meta: { k: 1 },
  },
  { id: 'r2', created_at: 1500, title: 'comma, "quote"\nnew line', qty: -2, price: 0.1, paid: false, due: null, tags: [], meta: {} },
  { id: 'r3', created_at: 2000, title: 'Unicode: 中文 ü 🎉', qty: null, price: null, paid: null, due: null, tags: null, meta: null },
  {
    id: 'r4',
    created_at: 2999,
    title: '',
    qty: 9007199254740991,
    price: -1e21,
    paid: true,
    due: '1999-12-31T23:59:59.999Z',
    tags: [{ x: [1, 2] }],
    meta: { s: 'a\\b' },
  },
  { id: 'r5', created_at: 3000, title: 'end is exclusive', qty: 5, price: 5, paid: false, due: null, tags: null, meta: null },
];

describe('export', () => {
  let server: TestServer;
  let token: string;
  let email: string;
  let tableId: number;

  before(async () => {
    server = await startTestServer();
    ({ token, email } = await server.createUser(undefined, { name: 'Ada' }));
    tableId = await createTable(server, token, 'orders');
    const res = await client(server, token).post(`/oserve/v1/table/${tableId}/record/`).send(ROWS);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });
  after(() => server.close());

  test('CSV of all rows: queued, mailed to the user with a signed link, the file holds exactly the rows', async () => {
    const c = client(server, token);
    const res = await c.post(`/oserve/v1/table/${tableId}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'ok');
    assert.match(res.body.job_id, /^[0-9a-f-]{36}$/);

    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 5);
    assert.equal(job.type, 'export');
    assert.equal(job.table_id, tableId);
    assert.equal(job.progress, 100);
    assert.ok(job.file_url?.startsWith(`${server.baseUrl}/oserve/v1/files/${job.id}/`));

    const mail = await server.smtp.waitForMessage((m) => m.text.includes(job.id) || (m.html ?? '').includes(job.id));
    assert.deepEqual(mail.to, [email]);
    assert.match(mail.subject, /orders/);
    assert.match(mail.text, /\b5\b/);
    const link = /(https?:\/\/\S+\/oserve\/v1\/files\/\S+)/.exec(mail.text)?.[1];
    assert.ok(link, 'the mail holds the download link');
    assert.equal(link, job.file_url);

    const file = await download(defined(link, 'link'));
    assert.equal(file.status, 200);
    assert.match(file.headers.get('content-type') ?? '', /text\/csv/);
    const lines = parse(file.body, { relax_column_count: false }) as string[][];
    assert.deepEqual(lines[0], ['id', 'created_at', 'updated_at', 'created_by', 'title', 'qty', 'price', 'paid', 'due', 'tags', 'meta']);
    assert.equal(lines.length, 6);
    assert.deepEqual(
      lines.slice(1).map((l) => l[0]),
      ['r1', 'r2', 'r3', 'r4', 'r5'],
    );
    const r2 = defined(lines[2], 'lines[2]');
    assert.equal(r2[4], 'comma, "quote"\nnew line');
    assert.equal(r2[7], 'false');
    assert.deepEqual(JSON.parse(defined(r2[9], 'r2[9]')), []);
    assert.equal(lines[1]?.[7], 'true');
    assert.equal(lines[1]?.[8], '2024-01-01T00:00:00.000Z');
    assert.equal(lines[3]?.[4], 'Unicode: 中文 ü 🎉');
    assert.equal(lines[4]?.[5], '9007199254740991');
    assert.deepEqual(JSON.parse(defined(lines[4]?.[9], 'lines[4]?.[9]')), [{ x: [1, 2] }]);
    assert.deepEqual(JSON.parse(defined(lines[4]?.[10], 'lines[4]?.[10]')), { s: 'a\\b' });
    // RFC 4180: the quoted cell is written with doubled quotes, NULL as an empty unquoted cell, '' as "".
    assert.ok(file.body.includes('"comma, ""quote""\nnew line"'));
    assert.ok(file.body.includes(',"",'), 'an empty string is a quoted empty cell');
  });

  test('JSON keeps native types, and part mode takes [start, end)', async () => {
    const c = client(server, token);
    // The minute is per table and per kind: use another table for a second export now.
    const t2 = await createTable(server, token, 'orders_json');
    await c.post(`/oserve/v1/table/${t2}/record/`).send(ROWS);
    const res = await c.post(`/oserve/v1/table/${t2}/export/`).send({ file_type: 'json', mode: 'part', start: 1500, end: 3000 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 3);
    const file = await download(defined(job.file_url, 'job.file_url'));
    const rows = JSON.parse(file.body) as Array<Record<string, unknown>>;
    assert.deepEqual(
      rows.map((r) => r.id),
      ['r2', 'r3', 'r4'],
      'start is in, end is out',
    );
    assert.equal(rows[0]?.paid, false);
    assert.equal(rows[0]?.created_at, 1500);
    assert.equal(rows[0]?.title, 'comma, "quote"\nnew line');
    assert.deepEqual(rows[2]?.tags, [{ x: [1, 2] }]);
    assert.equal(rows[2]?.qty, 9007199254740991);
    assert.equal(rows[2]?.price, -1e21);
    assert.equal(rows[2]?.due, '1999-12-31T23:59:59.999Z');
    assert.equal(rows[1]?.qty, null);
    assert.deepEqual(Object.keys(defined(rows[0], 'rows[0]')), [
      'id',
      'created_at',
      'updated_at',
      'created_by',
      'title',
      'qty',
      'price',
      'paid',
      'due',
      'tags',
      'meta',
    ]);

    // MinApp v1.5's views of the table's exports.
    const list = await c.get(`/oserve/v1/table/${t2}/export/`);
    assert.equal(list.status, 200);
    assert.equal(list.body.meta.total_count, 1);
    assert.equal(list.body.objects[0].job_id, job.id);
    const one = await c.get(`/oserve/v1/table/${t2}/export/${job.id}/`);
    assert.equal(one.status, 200);
    assert.equal(one.body.status, 'finish');
    assert.equal(one.body.operation, 'export');
    assert.equal(one.body.file_type, 'json');
    assert.equal(one.body.download_url, job.file_url);
    assert.match(one.body.file_name, /^orders_json_\d{8}_\d{6}\.json$/);
  });

  test('an open bound: only start, only end', async () => {
    const c = client(server, token);
    const t = await createTable(server, token, 'bounds');
    await c.post(`/oserve/v1/table/${t}/record/`).send(ROWS);
    const res = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'json', mode: 'part', end: 2000 });
    const job = await waitForJob(server, token, res.body.job_id);
    assert.deepEqual(
      (JSON.parse((await download(defined(job.file_url, 'job.file_url'))).body) as Array<{ id: string }>).map((r) => r.id),
      ['r1', 'r2'],
    );
    const tf = await createTable(server, token, 'bounds_form');
    await c.post(`/oserve/v1/table/${tf}/record/`).send(ROWS);
    const form = await c
      .post(`/oserve/v1/table/${tf}/export/`)
      .type('form')
      .send({ file_type: 'json', mode: 'part', start: '1500', end: '2000' });
    assert.equal(form.status, 201, `a form post works too: ${JSON.stringify(form.body)}`);
    const jobF = await waitForJob(server, token, form.body.job_id);
    assert.deepEqual(
      (JSON.parse((await download(defined(jobF.file_url, 'jobF.file_url'))).body) as Array<{ id: string }>).map((r) => r.id),
      ['r2'],
    );
    const t3 = await createTable(server, token, 'bounds2');
    await c.post(`/oserve/v1/table/${t3}/record/`).send(ROWS);
    const res2 = await c.post(`/oserve/v1/table/${t3}/export/`).send({ file_type: 'json', mode: 'part', start: '2999' });
    const job2 = await waitForJob(server, token, res2.body.job_id);
    assert.deepEqual(
      (JSON.parse((await download(defined(job2.file_url, 'job2.file_url'))).body) as Array<{ id: string }>).map((r) => r.id),
      ['r4', 'r5'],
    );
  });

  test('every wrong parameter is 400 invalid_parameter naming it, and does not use up the minute', async () => {
    const c = client(server, token);
    const t = await createTable(server, token, 'params');
    const cases: Array<[object, string]> = [
      [{ mode: 'all' }, 'file_type'],
      [{ file_type: 'pdf', mode: 'all' }, 'file_type'],
      [{ file_type: 'csv' }, 'mode'],
      [{ file_type: 'csv', mode: 'some' }, 'mode'],
      [{ file_type: 'csv', mode: 'part' }, 'start'],
      [{ file_type: 'csv', mode: 'part', start: 'yesterday' }, 'start'],
      [{ file_type: 'csv', mode: 'part', start: 1.5 }, 'start'],
      [{ file_type: 'csv', mode: 'part', end: -1 }, 'end'],
      [{ file_type: 'csv', mode: 'part', start: 10, end: 10 }, 'end'],
    ];
    for (const [body, param] of cases) {
      const res = await c.post(`/oserve/v1/table/${t}/export/`).send(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error_code, 'invalid_parameter', JSON.stringify(res.body));
      assert.equal(res.body.parameter, param, JSON.stringify(res.body));
      assert.ok(res.body.error_msg.includes(param), res.body.error_msg);
    }
    const ok = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(ok.status, 201, 'the refused requests did not take the minute');
  });

  test('a second task for the table within the minute is too_frequent with Retry-After; import has its own minute', async () => {
    const c = client(server, token);
    const t = await createTable(server, token, 'freq');
    assert.equal((await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' })).status, 201);
    const again = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'json', mode: 'all' });
    assert.equal(again.status, 400);
    assert.equal(again.body.error_code, 'too_frequent');
    const retry = Number(again.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${again.headers['retry-after']}`);
    const imp = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('title\nx\n'), 'a.csv');
    assert.equal(imp.status, 201, JSON.stringify(imp.body));
  });

  test('links: tampered and expired links are refused, no token needed for a good one', async () => {
    const c = client(server, token);
    const res = await c.post(`/oserve/v1/table/${tableId}/export/`).send({ file_type: 'json', mode: 'all' });
    // The first test took this table's export minute: that is the too_frequent path.
    assert.equal(res.status, 400);
    const t = await createTable(server, token, 'links');
    await c.post(`/oserve/v1/table/${t}/record/`).send(ROWS.slice(0, 1));
    const job = await waitForJob(
      server,
      token,
      (await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' })).body.job_id,
    );
    const url = new URL(defined(job.file_url, 'job.file_url'));
    assert.equal((await download(url.toString())).status, 200);

    const sig = defined(url.searchParams.get('signature'), 'the signature');
    const flipped = new URL(url);
    flipped.searchParams.set('signature', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    const forged = await download(flipped.toString());
    assert.equal(forged.status, 403);
    assert.equal(JSON.parse(forged.body).error_code, 'invalid_signature');

    const later = new URL(url);
    later.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    assert.equal((await download(later.toString())).status, 403);

    const otherFile = new URL(url.toString().replace(/\/[^/?]+\?/, '/other.csv?'));
    assert.equal((await download(otherFile.toString())).status, 403);
  });

  test('a job of another user is 404', async () => {
    const c = client(server, token);
    const t = await createTable(server, token, 'mine');
    const { body } = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    const stranger = client(server, (await server.createUser()).token);
    const res = await stranger.get(`/oserve/v1/jobs/${body.job_id}`);
    assert.equal(res.status, 404);
    assert.equal(res.body.error_code, 'not_found');
    assert.equal((await stranger.get('/oserve/v1/jobs/')).body.meta.total_count, 0);
    const mine = await c.get('/oserve/v1/jobs/?limit=1');
    assert.equal(mine.body.objects[0].id, body.job_id, 'newest first');
  });
});

describe('export limits', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer({ env: { EXPORT_MAX_ROWS: '3', DOWNLOAD_LINK_TTL_SECONDS: '1', CLEANUP_INTERVAL_SECONDS: '1' } });
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  test('more rows than EXPORT_MAX_ROWS is refused at request time; a window under the cap is fine', async () => {
    const c = client(server, token);
    const t = await createTable(server, token, 'big');
    await c.post(`/oserve/v1/table/${t}/record/`).send(ROWS);
    const res = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 'too_many_rows');
    const part = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'part', start: 2000 });
    assert.equal(part.status, 201, 'the refused request did not take the minute');
    const job = await waitForJob(server, token, part.body.job_id);
    assert.equal(job.rows, 3);
    server.clock.advance(2100);
    const expired = await download(defined(job.file_url, 'job.file_url'));
    assert.equal(expired.status, 410);
    assert.equal(JSON.parse(expired.body).error_code, 'link_expired');

    // The file of an expired link is removed by the repeating clean-up job.
    const path = join(server.config.storageDir, 'exports', job.id, defined(job.file_name, 'job.file_name'));
    // The clean-up removes the file, then forgets its key.
    await waitFor(`${path} to be removed and forgotten`, async () => {
      const row = await server.db.query('SELECT file_key FROM tableport.jobs WHERE id = $1', [job.id]);
      return !existsSync(path) && row.rows[0].file_key === null;
    });
  });
});

describe('export cap at run time', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    // No worker yet: the test adds rows between the request and the run.
    server = await startTestServer({ roles: ['api'], env: { EXPORT_MAX_ROWS: '3' } });
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  test('rows added after the request that push the selection over the cap fail the job with too_many_rows', async () => {
    const c = client(server, token);
    const t = await createTable(server, token, 'growing');
    await c.post(`/oserve/v1/table/${t}/record/`).send(ROWS.slice(0, 3));
    const res = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'json', mode: 'all' });
    assert.equal(res.status, 201);
    await c.post(`/oserve/v1/table/${t}/record/`).send(ROWS.slice(3));
    await server.startPeer(['worker']);
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'failed');
    assert.equal(job.errors[0]?.error_code, 'too_many_rows');
    assert.equal(job.file_url, null);
  });
});
