import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { client, createTable, download, waitForJob } from '../../helpers/api.js';
import { defined } from '../../helpers/defined.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('records: get, update, delete, and the page byte budget', () => {
  let server: TestServer;
  let token: string;
  let c: ReturnType<typeof client>;
  let table: number;
  const put = (path: string) => request(server.baseUrl).put(path).set('Authorization', `Bearer ${token}`);

  before(async () => {
    server = await startTestServer({ env: { RECORDS_PAGE_MAX_BYTES: '20000' } });
    token = (await server.createUser()).token;
    c = client(server, token);
    table = await createTable(server, token, 'crud');
  });
  after(() => server.close());

  test('GET, PUT with plain values, DELETE one record; a missing one is 404', async () => {
    await c.post(`/oserve/v1/table/${table}/record/`).send({ id: 'a1', title: 'old', qty: 1, created_at: 1000 });
    const got = await c.get(`/oserve/v1/table/${table}/record/a1/`);
    assert.equal(got.status, 200);
    assert.equal(got.body.title, 'old');
    assert.equal(got.body.updated_at, 1000);

    const upd = await put(`/oserve/v1.5/table/${table}/record/a1/`).send({
      title: 'new\tline\\x',
      paid: true,
      due: '2024-05-01',
      meta: { a: [1] },
      price: null,
    });
    assert.equal(upd.status, 200, JSON.stringify(upd.body));
    assert.equal(upd.body.title, 'new\tline\\x');
    assert.equal(upd.body.paid, true);
    assert.equal(upd.body.due, '2024-05-01T00:00:00.000Z');
    assert.deepEqual(upd.body.meta, { a: [1] });
    assert.equal(upd.body.qty, 1, 'fields not sent keep their values');
    assert.equal(upd.body.created_at, 1000);
    assert.ok(upd.body.updated_at >= Math.floor(Date.now() / 1000) - 60, 'updated_at is set to now');
    assert.deepEqual((await c.get(`/oserve/v1/table/${table}/record/a1/`)).body, upd.body);

    assert.equal((await c.delete(`/oserve/v1/table/${table}/record/a1/`)).status, 204);
    for (const res of [
      await c.get(`/oserve/v1/table/${table}/record/a1/`),
      await c.delete(`/oserve/v1/table/${table}/record/a1/`),
      await put(`/oserve/v1/table/${table}/record/a1/`).send({ title: 'x' }),
    ]) {
      assert.equal(res.status, 404);
      assert.equal(res.body.error_code, 'not_found');
    }
  });

  test('PUT applies $incr_by, $append, $append_unique and $remove', async () => {
    await c.post(`/oserve/v1/table/${table}/record/`).send({ id: 'o1', qty: 5, price: 1.5, tags: ['a', 'b', 'a'] });
    const path = `/oserve/v1/table/${table}/record/o1/`;
    let r = await put(path).send({ qty: { $incr_by: -2 }, price: { $incr_by: 0.25 }, tags: { $append: ['c', { x: 1 }] } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.qty, 3);
    assert.equal(r.body.price, 1.75);
    assert.deepEqual(r.body.tags, ['a', 'b', 'a', 'c', { x: 1 }]);
    r = await put(path).send({ tags: { $append_unique: ['b', 'd', 'd', 'e'] } });
    assert.deepEqual(r.body.tags, ['a', 'b', 'a', 'c', { x: 1 }, 'd', 'e']);
    r = await put(path).send({ tags: { $remove: ['a', { x: 1 }] } });
    assert.deepEqual(r.body.tags, ['b', 'c', 'd', 'e']);
    r = await put(path).send({ tags: { $append: 'z' }, title: 'plain beside' });
    assert.deepEqual(r.body.tags, ['b', 'c', 'd', 'e', 'z']);
    assert.equal(r.body.title, 'plain beside');
    // On an empty value: $incr_by starts from 0, $append from [].
    await c.post(`/oserve/v1/table/${table}/record/`).send({ id: 'o2' });
    r = await put(`/oserve/v1/table/${table}/record/o2/`).send({ qty: { $incr_by: 4 }, tags: { $append_unique: [1, 1] } });
    assert.equal(r.body.qty, 4);
    assert.deepEqual(r.body.tags, [1]);
  });

  test('PUT refuses what an insert would refuse, and operators on the wrong types, naming the field', async () => {
    await c.post(`/oserve/v1/table/${table}/record/`).send({ id: 'v1', qty: 1 });
    const path = `/oserve/v1/table/${table}/record/v1/`;
    const cases: Array<[unknown, string]> = [
      [{ qty: 'three' }, 'qty'],
      [{ qty: { $incr_by: 1.5 } }, 'qty'],
      [{ qty: { $incr_by: 'x' } }, 'qty'],
      [{ title: { $incr_by: 1 } }, 'title'],
      [{ qty: { $append: [1] } }, 'qty'],
      [{ tags: { $push: [1] } }, '$push'],
      [{ due: 'yesterday' }, 'due'],
      [{ title: 'a\u0000b' }, 'title'],
      [{ nope: 1 }, 'nope'],
      [{ id: 'other' }, 'id'],
      [{ created_at: 5 }, 'created_at'],
      [{}, 'body'],
      [[{ qty: 1 }], 'body'],
      [{ qty: { $incr_by: 9_007_199_254_740_991 } }, 'qty'],
    ];
    for (const [body, param] of cases) {
      const res = await put(path).send(body as object);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error_code, 'invalid_parameter');
      assert.equal(res.body.parameter, param, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    }
    assert.equal((await c.get(path)).body.qty, 1, 'a refused update changes nothing');
  });

  test('concurrent $incr_by updates all count (one atomic UPDATE each)', async () => {
    await c.post(`/oserve/v1/table/${table}/record/`).send({ id: 'n1', qty: 0, tags: [] });
    const path = `/oserve/v1/table/${table}/record/n1/`;
    const n = 30;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => put(path).send({ qty: { $incr_by: 1 }, tags: { $append: [i] } })),
    );
    for (const r of results) assert.equal(r.status, 200);
    const row = (await c.get(path)).body;
    assert.equal(row.qty, n);
    assert.deepEqual(
      [...row.tags].sort((a: number, b: number) => a - b),
      Array.from({ length: n }, (_, i) => i),
    );
  });

  test('a page stops at the byte budget, says so in meta, and next continues without gaps or repeats', async () => {
    const t = await createTable(server, token, 'big', { fields: [{ name: 'blob', type: 'string' }] });
    const rows = Array.from({ length: 40 }, (_, i) => ({
      id: `b${String(i).padStart(2, '0')}`,
      blob: 'x'.repeat(3000),
      created_at: 1000 + i,
    }));
    assert.equal((await c.post(`/oserve/v1/table/${t}/record/`).send(rows)).status, 201);

    const first = await c.get(`/oserve/v1.5/table/${t}/record/?limit=1000&order_by=created_at`);
    assert.equal(first.status, 200);
    const got: string[] = first.body.objects.map((r: { id: string }) => r.id);
    // 20,000 bytes of budget, rows of ~3,100 bytes: 7 rows (the one that passes the budget is sent).
    assert.ok(got.length > 1 && got.length < 10, `page of ${got.length} rows`);
    assert.equal(first.body.meta.truncated, true);
    assert.equal(first.body.meta.limit, got.length);
    assert.equal(first.body.meta.total_count, 40);
    assert.equal(first.body.meta.next, `/oserve/v1.5/table/${t}/record/?order_by=created_at&limit=1000&offset=${got.length}`);
    assert.ok(Buffer.byteLength(JSON.stringify(first.body.objects)) < 20_000 + 3200);

    let next: string | null = first.body.meta.next;
    while (next) {
      const page = await c.get(next);
      got.push(...page.body.objects.map((r: { id: string }) => r.id));
      next = page.body.meta.next;
    }
    assert.deepEqual(
      got,
      rows.map((r) => r.id),
    );

    const small = await c.get(`/oserve/v1/table/${t}/record/?limit=2`);
    assert.equal(small.body.meta.truncated, undefined, 'a page under the budget is not marked');
    assert.equal(small.body.meta.limit, 2);
  });

  test("fields named like the queries' own aliases (x, r, u, q, j, n, m): the records API and exports still work", async () => {
    const names = ['x', 'r', 'u', 'q', 'j', 'n', 'm'];
    const t = await createTable(server, token, 'aliases', { fields: names.map((name) => ({ name, type: 'number' })) });
    const row = Object.fromEntries(names.map((name, i) => [name, i + 0.5]));
    const created = await c.post(`/oserve/v1/table/${t}/record/`).send({ id: 'a', ...row });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.x, 0.5);
    const list = await c.get(`/oserve/v1/table/${t}/record/`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.objects[0].r, 1.5);
    const one = await c.get(`/oserve/v1/table/${t}/record/a/`);
    assert.equal(one.body.m, 6.5);
    const upd = await put(`/oserve/v1/table/${t}/record/a/`).send({ x: { $incr_by: 1 } });
    assert.equal(upd.status, 200, JSON.stringify(upd.body));
    assert.equal(upd.body.x, 1.5);
    const exp = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'ndjson', mode: 'all' });
    assert.equal(exp.status, 201, JSON.stringify(exp.body));
    const job = await waitForJob(server, token, exp.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const file = await download(defined(job.file_url, 'file_url'));
    const exported = JSON.parse(file.body) as Record<string, unknown>;
    assert.deepEqual(Object.fromEntries(names.map((name) => [name, exported[name]])), { ...row, x: 1.5 });
  });
});
