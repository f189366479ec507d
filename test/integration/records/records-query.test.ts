import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, createTable } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

type Row = { id: string; title: string | null };

describe('records: where, order_by and the v1.5 paths', () => {
  let server: TestServer;
  let token: string;
  let c: ReturnType<typeof client>;
  let table: number;

  const ROWS = [
    {
      id: 'r1',
      created_at: 1000,
      title: 'apple pie',
      qty: 1,
      price: 1.5,
      paid: true,
      due: '2024-01-01T00:00:00Z',
      tags: ['a', 'b'],
      meta: { k: 1 },
    },
    {
      id: 'r2',
      created_at: 2000,
      title: '50%_off',
      qty: 2,
      price: 2.5,
      paid: false,
      due: '2024-02-01T00:00:00Z',
      tags: ['b', 3],
      meta: { k: 2 },
    },
    { id: 'r3', created_at: 3000, title: 'Banana', qty: 3, price: 3.5, paid: true, due: '2024-03-01T00:00:00Z', tags: [true], meta: null },
    { id: 'r4', created_at: 3000, title: null, qty: null, price: null, paid: null, due: null, tags: null, meta: null },
  ];

  before(async () => {
    server = await startTestServer();
    token = (await server.createUser()).token;
    c = client(server, token);
    table = await createTable(server, token, 'q');
    const res = await c.post(`/oserve/v1/table/${table}/record/`).send(ROWS);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });
  after(() => server.close());

  async function ids(where: unknown, extra = ''): Promise<string[]> {
    const res = await c.get(`/oserve/v1/table/${table}/record/?where=${encodeURIComponent(JSON.stringify(where))}&order_by=id${extra}`);
    assert.equal(res.status, 200, `${JSON.stringify(where)}: ${JSON.stringify(res.body)}`);
    return (res.body.objects as Row[]).map((r) => r.id);
  }

  test('the default order is newest first, ties by id descending; order_by changes it', async () => {
    const all = await c.get(`/oserve/v1/table/${table}/record/`);
    assert.deepEqual(
      all.body.objects.map((r: Row) => r.id),
      ['r4', 'r3', 'r2', 'r1'],
    );
    const oldest = await c.get(`/oserve/v1/table/${table}/record/?order_by=created_at`);
    assert.deepEqual(
      oldest.body.objects.map((r: Row) => r.id),
      ['r1', 'r2', 'r3', 'r4'],
    );
    const byPrice = await c.get(`/oserve/v1/table/${table}/record/?order_by=-price,title`);
    // NULLs sort first when descending (PostgreSQL's rule).
    assert.deepEqual(
      byPrice.body.objects.map((r: Row) => r.id),
      ['r4', 'r3', 'r2', 'r1'],
    );
    const bad = await c.get(`/oserve/v1/table/${table}/record/?order_by=tags`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.parameter, 'order_by');
  });

  test('every operator on every type it applies to, against real rows', async () => {
    const cases: Array<[unknown, string[]]> = [
      // string
      [{ title: 'Banana' }, ['r3']],
      [{ title: { $ne: 'Banana' } }, ['r1', 'r2', 'r4']],
      [{ title: { $in: ['Banana', 'apple pie'] } }, ['r1', 'r3']],
      [{ title: { $nin: ['Banana'] } }, ['r1', 'r2', 'r4']],
      [{ title: { $contains: 'pie' } }, ['r1']],
      [{ title: { $contains: '%_' } }, ['r2']],
      [{ title: { $contains: '_' } }, ['r2']],
      [{ title: { $regex: '^b' } }, []],
      [{ title: { $regex: '^b', $options: 'i' } }, ['r3']],
      [{ title: { $isnull: true } }, ['r4']],
      [{ title: { $exists: true } }, ['r1', 'r2', 'r3']],
      // integer
      [{ qty: 2 }, ['r2']],
      [{ qty: { $ne: 2 } }, ['r1', 'r3', 'r4']],
      [{ qty: { $lt: 2 } }, ['r1']],
      [{ qty: { $lte: 2 } }, ['r1', 'r2']],
      [{ qty: { $gt: 2 } }, ['r3']],
      [{ qty: { $gte: 2 } }, ['r2', 'r3']],
      [{ qty: { $in: [1, 3] } }, ['r1', 'r3']],
      [{ qty: { $nin: [1, 3] } }, ['r2', 'r4']],
      [{ qty: { $range: [2, 3] } }, ['r2', 'r3']],
      [{ qty: { $isnull: false } }, ['r1', 'r2', 'r3']],
      // number
      [{ price: 2.5 }, ['r2']],
      [{ price: { $gt: 1.5, $lt: 3.5 } }, ['r2']],
      [{ price: { $range: [1, 2.5] } }, ['r1', 'r2']],
      [{ price: { $in: [3.5] } }, ['r3']],
      // boolean
      [{ paid: true }, ['r1', 'r3']],
      [{ paid: { $ne: true } }, ['r2', 'r4']],
      [{ paid: { $exists: false } }, ['r4']],
      // date
      [{ due: '2024-02-01T00:00:00.000Z' }, ['r2']],
      [{ due: { $gte: '2024-02-01', $lt: '2024-03-01T00:00:00+00:00' } }, ['r2']],
      [{ due: { $lte: '2024-02-01T08:00:00+08:00' } }, ['r1', 'r2']],
      [{ due: { $in: ['2024-01-01', '2024-03-01'] } }, ['r1', 'r3']],
      // array
      [{ tags: ['a', 'b'] }, ['r1']],
      [{ tags: { $contains: 'b' } }, ['r1', 'r2']],
      [{ tags: { $contains: 3 } }, ['r2']],
      [{ tags: { $all: ['a', 'b'] } }, ['r1']],
      [{ tags: { $all: ['b', 3] } }, ['r2']],
      [{ tags: { $in: ['a', true] } }, ['r1', 'r3']],
      [{ tags: { $nin: ['b'] } }, ['r3', 'r4']],
      [{ tags: { $isnull: true } }, ['r4']],
      // object
      [{ meta: { k: 2 } }, ['r2']],
      [{ meta: { $exists: true } }, ['r1', 'r2']],
      // built-ins
      [{ id: 'r2' }, ['r2']],
      [{ id: { $in: ['r1', 'r4', 'nope'] } }, ['r1', 'r4']],
      [{ created_at: { $gte: 2000 } }, ['r2', 'r3', 'r4']],
      [{ created_at: { $range: [1000, 2000] } }, ['r1', 'r2']],
      [{ updated_at: { $lt: 2000 } }, ['r1']],
      [{ created_by: { $isnull: false } }, ['r1', 'r2', 'r3', 'r4']],
      // combined
      [{ $or: [{ qty: 1 }, { title: 'Banana' }] }, ['r1', 'r3']],
      [{ $and: [{ paid: true }, { $or: [{ qty: { $gt: 2 } }, { tags: { $contains: 'a' } }] }] }, ['r1', 'r3']],
      [{ paid: true, $or: [{ qty: 1 }, { qty: 2 }] }, ['r1']],
    ];
    for (const [where, want] of cases) assert.deepEqual(await ids(where), want, JSON.stringify(where));
  });

  test('refusals are 400 invalid_parameter naming the field or operator, and a bad $regex is a 400 too', async () => {
    const cases: Array<[string, string]> = [
      [JSON.stringify({ nope: 1 }), 'where.nope'],
      [JSON.stringify({ qty: { $gt: 'x' } }), 'where.qty.$gt'],
      [JSON.stringify({ paid: { $gt: true } }), 'where.paid.$gt'],
      [JSON.stringify({ title: { $regex: 'a(' } }), 'where'],
      [JSON.stringify({ title: { $regex: '\\' } }), 'where'],
      ['{not json', 'where'],
    ];
    for (const [where, param] of cases) {
      const res = await c.get(`/oserve/v1/table/${table}/record/?where=${encodeURIComponent(where)}`);
      assert.equal(res.status, 400, where);
      assert.equal(res.body.error_code, 'invalid_parameter');
      assert.equal(res.body.parameter, param, JSON.stringify(res.body));
    }
  });

  test('a where full of SQL is data, not SQL', async () => {
    assert.deepEqual(await ids({ title: "x' OR '1'='1" }), []);
    assert.deepEqual(await ids({ title: { $contains: "'); DROP TABLE tableport.users; --" } }), []);
    const still = await server.db.query('SELECT count(*)::int AS n FROM tableport.users');
    assert.ok(still.rows[0].n > 0);
  });

  test('meta links keep where and order_by, and follow the version the caller used', async () => {
    const where = JSON.stringify({ qty: { $gte: 1 } });
    for (const v of ['v1', 'v1.5']) {
      const res = await c.get(`/oserve/${v}/table/${table}/record/?where=${encodeURIComponent(where)}&order_by=qty&limit=1&offset=1`);
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.objects.map((r: Row) => r.id),
        ['r2'],
      );
      const q = (offset: number) => `where=${encodeURIComponent(where)}&order_by=qty&limit=1&offset=${offset}`;
      assert.equal(res.body.meta.next, `/oserve/${v}/table/${table}/record/?${q(2)}`);
      assert.equal(res.body.meta.previous, `/oserve/${v}/table/${table}/record/?${q(0)}`);
      assert.equal(res.body.meta.total_count, 3);
      const next = await c.get(res.body.meta.next);
      assert.deepEqual(
        next.body.objects.map((r: Row) => r.id),
        ['r3'],
      );
      assert.equal(next.body.meta.next, null);
    }
  });

  test('every v1 path answers under /oserve/v1.5/ with the same behaviour', async () => {
    const t = await c.post('/oserve/v1.5/table/').send({ name: 'v15', schema: { fields: [{ name: 'n', type: 'integer' }] } });
    assert.equal(t.status, 201);
    assert.equal((await c.get(`/oserve/v1.5/table/${t.body.id}/`)).body.name, 'v15');
    const list = await c.get('/oserve/v1.5/table/?limit=1');
    assert.equal(list.status, 200);
    assert.match(list.body.meta.next ?? '/oserve/v1.5/table/', /^\/oserve\/v1\.5\/table\//);
    const row = await c.post(`/oserve/v1.5/table/${t.body.id}/record/`).send({ id: 'x1', n: 1 });
    assert.equal(row.status, 201);
    assert.equal((await c.get(`/oserve/v1.5/table/${t.body.id}/record/x1/`)).body.n, 1);
    const exp = await c.post(`/oserve/v1.5/table/${t.body.id}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(exp.status, 201, JSON.stringify(exp.body));
    assert.equal((await c.get(`/oserve/v1.5/jobs/${exp.body.job_id}`)).status, 200);
    assert.equal((await c.get(`/oserve/v1.5/table/${t.body.id}/export/${exp.body.job_id}/`)).body.job_id, exp.body.job_id);
    const jobs = await c.get('/oserve/v1.5/jobs/?limit=1');
    assert.equal(jobs.status, 200);
    const exports = await c.get(`/oserve/v1.5/table/${t.body.id}/export/?limit=1`);
    assert.equal(exports.status, 200);
    assert.equal((await c.get('/oserve/v1.6/table/')).status, 404);
    assert.equal((await c.delete(`/oserve/v1.5/table/${t.body.id}/`)).status, 204);
  });
});
