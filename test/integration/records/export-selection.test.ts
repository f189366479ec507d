import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { client, createTable, download, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { defined } from '../../helpers/defined.js';

const ROWS = [
  { id: 'r1', created_at: 1000, title: 'plain', qty: 1700000000, price: 1.5, paid: true, tags: ['a'] },
  { id: 'r2', created_at: 1500, title: 'comma, "quote"', qty: 2, price: 9.5, paid: false, tags: ['b'] },
  { id: 'r3', created_at: 2000, title: 'Unicode 中文', qty: null, price: 9.5, paid: true, tags: ['a', 'b'] },
  { id: 'r4', created_at: 3000, title: 'later', qty: 4, price: 0.5, paid: true, tags: null },
];

describe('export selection: where, keys, order, headers, timestamps (v1 and v1.5)', () => {
  let server: TestServer;
  let token: string;
  let c: ReturnType<typeof client>;
  let n = 0;

  before(async () => {
    server = await startTestServer();
    token = (await server.createUser()).token;
    c = client(server, token);
  });
  after(() => server.close());

  /** A fresh table with the rows (one export per table per minute). */
  async function table(): Promise<number> {
    const id = await createTable(server, token, `sel${++n}`);
    assert.equal((await c.post(`/oserve/v1/table/${id}/record/`).send(ROWS)).status, 201);
    return id;
  }

  async function exportFile(body: object, version = 'v1'): Promise<{ rows: number; text: string }> {
    const id = await table();
    const res = await c.post(`/oserve/${version}/table/${id}/export/`).send(body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const file = await download(defined(job.file_url, 'job.file_url'));
    return { rows: job.rows, text: file.body };
  }

  test('where ANDed with the window, include_keys in order, order_by with ties by id, at v1.5', async () => {
    const { rows, text } = await exportFile(
      {
        file_type: 'csv',
        mode: 'part',
        start: 1000,
        end: 3000,
        where: { $or: [{ paid: true }, { price: { $gt: 9 } }] },
        include_keys: ['title', 'id', 'price'],
        order_by: ['-price'],
      },
      'v1.5',
    );
    assert.equal(rows, 3);
    // The tie on price is broken by id in the direction of the last key (descending here).
    assert.deepEqual(parse(text), [
      ['title', 'id', 'price'],
      ['Unicode 中文', 'r3', '9.5'],
      ['comma, "quote"', 'r2', '9.5'],
      ['plain', 'r1', '1.5'],
    ]);
  });

  test('exclude_keys, csv_customize_headers (written as given) and timestamp_convert_keys', async () => {
    const { text } = await exportFile({
      file_type: 'csv',
      mode: 'all',
      where: { id: { $in: ['r1', 'r2'] } },
      exclude_keys: ['updated_at', 'created_by', 'price', 'paid', 'due', 'tags', 'meta'],
      csv_customize_headers: ['编号', 'Created, at', 'A "title"', 'q'.repeat(100)],
      timestamp_convert_keys: ['created_at', 'qty'],
      order_by: ['created_at'],
    });
    assert.deepEqual(parse(text), [
      ['编号', 'Created, at', 'A "title"', 'q'.repeat(100)],
      ['r1', '1970-01-01T00:16:40.000Z', 'plain', '2023-11-14T22:13:20.000Z'],
      ['r2', '1970-01-01T00:25:00.000Z', 'comma, "quote"', '1970-01-01T00:00:02.000Z'],
    ]);
  });

  test('JSON: the selection, converted timestamps as strings, default order created_at then id', async () => {
    const { rows, text } = await exportFile({
      file_type: 'json',
      mode: 'all',
      where: { tags: { $contains: 'a' } },
      include_keys: ['id', 'created_at', 'tags'],
      timestamp_convert_keys: ['created_at'],
    });
    assert.equal(rows, 2);
    assert.deepEqual(JSON.parse(text), [
      { id: 'r1', created_at: '1970-01-01T00:16:40.000Z', tags: ['a'] },
      { id: 'r3', created_at: '1970-01-01T00:33:20.000Z', tags: ['a', 'b'] },
    ]);
  });

  test('a form post may send the lists as text', async () => {
    const id = await table();
    const res = await c
      .post(`/oserve/v1/table/${id}/export/`)
      .type('form')
      .send({
        file_type: 'csv',
        mode: 'all',
        include_keys: 'id,qty',
        where: JSON.stringify({ qty: { $gte: 4 } }),
        order_by: '["-qty"]',
      });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.deepEqual(parse((await download(defined(job.file_url, 'job.file_url'))).body), [
      ['id', 'qty'],
      ['r1', '1700000000'],
      ['r4', '4'],
    ]);
  });

  test('the row cap counts the whole selection', async () => {
    const capped = await startTestServer({ env: { EXPORT_MAX_ROWS: '2' } });
    try {
      const t2 = (await capped.createUser()).token;
      const id = await createTable(capped, t2, 'capped');
      const cc = client(capped, t2);
      await cc.post(`/oserve/v1/table/${id}/record/`).send(ROWS);
      const over = await cc.post(`/oserve/v1/table/${id}/export/`).send({ file_type: 'csv', mode: 'all', where: { paid: true } });
      assert.equal(over.status, 400);
      assert.equal(over.body.error_code, 'too_many_rows');
      const ok = await cc.post(`/oserve/v1/table/${id}/export/`).send({ file_type: 'csv', mode: 'part', end: 2000, where: { paid: true } });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assert.equal((await waitForJob(capped, t2, ok.body.job_id)).rows, 1);
    } finally {
      await capped.close();
    }
  });

  test('unknown, conflicting and mistyped selection parameters are 400 invalid_parameter naming them', async () => {
    const id = await table();
    const base = { file_type: 'csv', mode: 'all' };
    const cases: Array<[object, string]> = [
      [{ where: { nope: 1 } }, 'where.nope'],
      [{ where: { qty: { $regex: 'x' } } }, 'where.qty.$regex'],
      [{ where: { title: { $regex: '(' } } }, 'where'],
      [{ where: [1] }, 'where'],
      [{ include_keys: ['title', 'nope'] }, 'include_keys[1]'],
      [{ include_keys: ['title'], exclude_keys: ['qty'] }, 'exclude_keys'],
      [{ exclude_keys: ['title', 'title'] }, 'exclude_keys[1]'],
      [{ include_keys: 'x'.repeat(300) }, 'include_keys[0]'],
      [{ order_by: ['tags'] }, 'order_by'],
      [{ order_by: ['-nope'] }, 'order_by'],
      [{ csv_customize_headers: ['a', 'b'] }, 'csv_customize_headers'],
      [{ include_keys: ['id'], csv_customize_headers: ['a', 'b'] }, 'csv_customize_headers'],
      [{ file_type: 'json', csv_customize_headers: ['a'], include_keys: ['id'] }, 'csv_customize_headers'],
      [{ timestamp_convert_keys: ['title'] }, 'timestamp_convert_keys[0]'],
      [{ timestamp_convert_keys: ['id'] }, 'timestamp_convert_keys[0]'],
      [{ include_keys: ['id'], timestamp_convert_keys: ['created_at'] }, 'timestamp_convert_keys[0]'],
      [{ timestamp_convert_keys: [5] }, 'timestamp_convert_keys[0]'],
    ];
    for (const [body, param] of cases) {
      const res = await c.post(`/oserve/v1/table/${id}/export/`).send({ ...base, ...body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error_code, 'invalid_parameter', JSON.stringify(res.body));
      assert.equal(res.body.parameter, param, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    }
    // None of the refusals used up the table's minute.
    assert.equal((await c.post(`/oserve/v1/table/${id}/export/`).send(base)).status, 201);
  });
});
