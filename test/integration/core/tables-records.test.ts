import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { ALL_TYPES_SCHEMA, client, createTable } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('tables and records', () => {
  let server: TestServer;
  let token: string;
  let other: string;

  before(async () => {
    server = await startTestServer();
    token = (await server.createUser()).token;
    other = (await server.createUser()).token;
  });
  after(() => server.close());

  test('no token, a bad token and a malformed header are 401', async () => {
    const none = await request(server.baseUrl).get('/oserve/v1/table/');
    assert.equal(none.status, 401);
    assert.equal(none.body.error_code, 'unauthorized');
    const bad = await request(server.baseUrl).get('/oserve/v1/table/').set('Authorization', 'Bearer tp_nope');
    assert.equal(bad.status, 401);
    const basic = await request(server.baseUrl).get('/oserve/v1/table/').set('Authorization', `Basic ${token}`);
    assert.equal(basic.status, 401);
  });

  test('creates a table as a real typed PostgreSQL table and shows it', async () => {
    const c = client(server, token);
    const res = await c.post('/oserve/v1/table/').send({ name: 'orders', schema: ALL_TYPES_SCHEMA });
    assert.equal(res.status, 201);
    assert.equal(typeof res.body.id, 'number');
    assert.equal(res.body.name, 'orders');
    assert.deepEqual(res.body.schema, ALL_TYPES_SCHEMA);
    const cols = await server.db.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'tableport_data' AND table_name = $1 ORDER BY ordinal_position`,
      [`t_${res.body.id}`],
    );
    assert.deepEqual(
      cols.rows.map((r) => `${r.column_name}:${r.data_type}`),
      [
        'id:text',
        'created_at:bigint',
        'updated_at:bigint',
        'created_by:text',
        'title:text',
        'qty:bigint',
        'price:double precision',
        'paid:boolean',
        'due:timestamp with time zone',
        'tags:jsonb',
        'meta:jsonb',
      ],
    );
    const got = await c.get(`/oserve/v1/table/${res.body.id}/`);
    assert.equal(got.status, 200);
    assert.equal(got.body.row_count, 0);
    const list = await c.get('/oserve/v1/table/');
    assert.ok(list.body.objects.some((t: { id: number }) => t.id === res.body.id));
    assert.equal(typeof list.body.meta.total_count, 'number');

    const dup = await c.post('/oserve/v1/table/').send({ name: 'orders', schema: ALL_TYPES_SCHEMA });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error_code, 'table_exists');
  });

  test('a bad table definition is invalid_parameter naming the parameter', async () => {
    const c = client(server, token);
    const cases: Array<[unknown, string]> = [
      [{ schema: ALL_TYPES_SCHEMA }, 'name'],
      [{ name: '1abc', schema: ALL_TYPES_SCHEMA }, 'name'],
      [{ name: 'x', schema: { fields: [] } }, 'schema.fields'],
      [{ name: 'x', schema: { fields: [{ name: 'a', type: 'money' }] } }, 'schema.fields[0].type'],
      [{ name: 'x', schema: { fields: [{ name: 'id', type: 'string' }] } }, 'schema.fields[0].name'],
      [{ name: 'x', schema: { fields: [{ name: 'a b', type: 'string' }] } }, 'schema.fields[0].name'],
      [
        {
          name: 'x',
          schema: {
            fields: [
              { name: 'a', type: 'string' },
              { name: 'A', type: 'string' },
            ],
          },
        },
        'schema.fields[1].name',
      ],
    ];
    for (const [body, param] of cases) {
      const res = await c.post('/oserve/v1/table/').send(body as object);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error_code, 'invalid_parameter');
      assert.equal(res.body.parameter, param, JSON.stringify(res.body));
      assert.match(res.body.error_msg, /\w+/);
    }
    const notJson = await c.post('/oserve/v1/table/').set('Content-Type', 'application/json').send('{"name":');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error_code, 'invalid_parameter');
  });

  test('inserts one row and arrays, keeps a given created_at, and lists newest first or in created_at order', async () => {
    const c = client(server, token);
    const id = await createTable(server, token, 'rows_demo');
    const one = await c.post(`/oserve/v1/table/${id}/record/`).send({
      title: 'a, "quoted"\nline',
      qty: 3,
      price: 9.5,
      paid: true,
      due: '2024-05-01T12:00:00.000Z',
      tags: ['x', 1],
      meta: { k: { n: null } },
      created_at: 1_700_000_100,
    });
    assert.equal(one.status, 201, JSON.stringify(one.body));
    assert.equal(one.body.title, 'a, "quoted"\nline');
    assert.equal(one.body.qty, 3);
    assert.equal(one.body.paid, true);
    assert.equal(one.body.due, '2024-05-01T12:00:00.000Z');
    assert.deepEqual(one.body.tags, ['x', 1]);
    assert.deepEqual(one.body.meta, { k: { n: null } });
    assert.equal(one.body.created_at, 1_700_000_100);
    assert.match(one.body.id, /^[0-9a-f]{24}$/);

    const many = await c.post(`/oserve/v1/table/${id}/record/`).send([
      { title: 'b', created_at: 1_700_000_000 },
      { title: 'c', created_at: 1_700_000_200 },
    ]);
    assert.equal(many.status, 201);
    assert.equal(many.body.succeed, 2);
    assert.equal(many.body.operation_result.length, 2);

    const newest = await c.get(`/oserve/v1/table/${id}/record/`);
    assert.deepEqual(
      newest.body.objects.map((r: { title: string }) => r.title),
      ['c', 'a, "quoted"\nline', 'b'],
      'MinApp default: -created_at',
    );
    const page = await c.get(`/oserve/v1/table/${id}/record/?order_by=created_at&limit=2&offset=0`);
    assert.equal(page.status, 200);
    assert.deepEqual(
      page.body.objects.map((r: { title: string }) => r.title),
      ['b', 'a, "quoted"\nline'],
    );
    assert.deepEqual(page.body.meta, {
      limit: 2,
      offset: 0,
      total_count: 3,
      next: `/oserve/v1/table/${id}/record/?order_by=created_at&limit=2&offset=2`,
      previous: null,
    });
    const page2 = await c.get(page.body.meta.next);
    assert.deepEqual(
      page2.body.objects.map((r: { title: string }) => r.title),
      ['c'],
    );
    assert.equal(page2.body.meta.next, null);
    assert.equal(page2.body.meta.previous, `/oserve/v1/table/${id}/record/?order_by=created_at&limit=2&offset=0`);
  });

  test('refuses bad rows with the field named, and more than 1,000 rows per call', async () => {
    const c = client(server, token);
    const id = await createTable(server, token, 'rows_bad');
    const bad = await c.post(`/oserve/v1/table/${id}/record/`).send({ qty: 'three' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'invalid_parameter');
    assert.equal(bad.body.parameter, 'qty');
    const unknown = await c.post(`/oserve/v1/table/${id}/record/`).send([{ title: 'ok' }, { nope: 1 }]);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.parameter, '[1].nope');
    const tooMany = await c.post(`/oserve/v1/table/${id}/record/`).send(Array.from({ length: 1001 }, () => ({ title: 't' })));
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error_code, 'invalid_parameter');
    const rows = await c.get(`/oserve/v1/table/${id}/record/`);
    assert.equal(rows.body.meta.total_count, 0, 'a refused call writes nothing');
    const badLimit = await c.get(`/oserve/v1/table/${id}/record/?limit=0`);
    assert.equal(badLimit.status, 400);
    assert.equal(badLimit.body.parameter, 'limit');
  });

  test("another user's table is 404, and a deleted table is gone", async () => {
    const id = await createTable(server, token, 'private_one');
    const theirs = client(server, other);
    for (const res of [
      await theirs.get(`/oserve/v1/table/${id}/`),
      await theirs.get(`/oserve/v1/table/${id}/record/`),
      await theirs.post(`/oserve/v1/table/${id}/export/`).send({ file_type: 'csv', mode: 'all' }),
      await theirs.delete(`/oserve/v1/table/${id}/`),
    ]) {
      assert.equal(res.status, 404);
      assert.equal(res.body.error_code, 'not_found');
    }
    const c = client(server, token);
    assert.equal((await c.delete(`/oserve/v1/table/${id}/`)).status, 204);
    assert.equal((await c.get(`/oserve/v1/table/${id}/`)).status, 404);
    const left = await server.db.query(`SELECT to_regclass('tableport_data.t_${id}') AS t`);
    assert.equal(left.rows[0].t, null);
    assert.equal((await c.get('/oserve/v1/table/abc/')).status, 404);
  });
});
