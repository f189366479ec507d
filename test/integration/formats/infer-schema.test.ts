import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { client, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { rowsOf, uniqueName } from './helpers.js';
import { TablesRepository } from '../../../src/db/repositories/tables.repository.js';
import { expectedRows, expectedType, generateTable, prng, renderTable } from '../../helpers/generated-tables.js';
import { type CellInput, xlsxOf } from '../../helpers/xlsx.js';

describe('POST /table/import/: a table from a file, schema inferred', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  async function create(bytes: Buffer | string, name: string, fields: Record<string, string> = {}) {
    let req = client(server, token).post('/oserve/v1/table/import/').field('name', name);
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    return req.attach('file', Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), 'data');
  }

  test('a CSV (semicolons): every type, a mixed column as string, built-ins recognised; the job shows the schema', async () => {
    const csv = [
      'id;created_at;title;qty;price;paid;due;tags;meta;mixed;empty',
      'r1;100;Widget;3;2.5;true;2024-05-01;[1,2];"{""a"":1}";7;',
      'r2;200;Gadget, big;-4;3;FALSE;2024-05-02T10:00:00Z;[];{};x;',
      'r3;300;;;;;;;;;',
    ].join('\n');
    const name = uniqueName('inferred');
    const res = await create(csv, name);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'ok');
    assert.equal(typeof res.body.table_id, 'number');
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 3);
    const expected = [
      { name: 'title', type: 'string' },
      { name: 'qty', type: 'integer' },
      { name: 'price', type: 'number' },
      { name: 'paid', type: 'boolean' },
      { name: 'due', type: 'date' },
      { name: 'tags', type: 'array' },
      { name: 'meta', type: 'object' },
      { name: 'mixed', type: 'string' },
      { name: 'empty', type: 'string' },
    ];
    assert.deepEqual(job.inferred_schema, { fields: expected });
    const table = await client(server, token).get(`/oserve/v1/table/${res.body.table_id}/`);
    assert.equal(table.body.name, name);
    assert.deepEqual(table.body.schema.fields, expected);
    const rows = await rowsOf(server, token, res.body.table_id);
    assert.deepEqual(
      rows.map((r) => [r.id, r.created_at, r.title, r.qty, r.price, r.paid]),
      [
        ['r1', 100, 'Widget', 3, 2.5, true],
        ['r2', 200, 'Gadget, big', -4, 3, false],
        ['r3', 300, null, null, null, null],
      ],
    );
  });

  test('gzip NDJSON with nested values, numbers that are sometimes whole, and a column of text and numbers', async () => {
    const text = [
      '{"n": 1, "x": 1.5, "o": {"k": [1]}, "when": "2024-01-01T00:00:00Z", "s": "a", "id": 7}',
      '{"n": 2, "x": 2, "o": null, "when": null, "s": 5}',
      '{"n": "", "x": null, "o": {}, "when": "", "s": true}',
      '{"s": {"nested": [1, "x"]}}',
      '',
    ].join('\n');
    const res = await create(gzipSync(text), uniqueName('nd'));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    // The schema takes the file it was inferred from: a number, boolean or object in a string
    // column is stored as its text, an empty string in a typed column is no value, a numeric id its text.
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(job.inferred_schema?.fields, [
      { name: 'n', type: 'integer' },
      { name: 'x', type: 'number' },
      { name: 'o', type: 'object' },
      { name: 'when', type: 'date' },
      { name: 's', type: 'string' },
    ]);
    const rows = await rowsOf(server, token, res.body.table_id);
    const byS = new Map(rows.map((r) => [r.s, r]));
    assert.deepEqual([...byS.keys()].sort(), ['5', 'a', 'true', '{"nested":[1,"x"]}']);
    assert.equal(byS.get('a')?.id, '7');
    assert.equal(byS.get('true')?.n, null);
    assert.equal(byS.get('true')?.when, null);
    assert.deepEqual(byS.get('true')?.o, {});
  });

  test('property: for generated files of every format, the rows stored are the values of the file', async () => {
    const PER_FORMAT = 6;
    for (const format of ['csv', 'json', 'ndjson', 'xlsx'] as const) {
      for (let seed = 1; seed <= PER_FORMAT; seed++) {
        const what = `${format} seed ${seed}`;
        const table = generateTable(prng(seed * 104729 + format.length), format);
        const res = await create(await renderTable(table, format), uniqueName(`prop_${format}`));
        assert.equal(res.status, 201, `${what}: ${JSON.stringify(res.body)}`);
        const job = await waitForJob(server, token, res.body.job_id);
        assert.equal(job.status, 'succeeded', `${what}: ${JSON.stringify(job.errors)}`);
        assert.equal(job.rows, table.rows.length, what);
        const types = new Map((job.inferred_schema?.fields ?? []).map((f) => [f.name, f.type as string]));
        const expected = expectedRows(
          table,
          format,
          table.columns.map((c, i) => types.get(c.name) ?? expectedType(table, i)),
        );
        const stored = await rowsOf(server, token, res.body.table_id);
        const byId = new Map(stored.map((r) => [r.id, r]));
        for (const row of expected) {
          const got = byId.get(row.id);
          assert.ok(got, `${what}: row ${String(row.id)} was stored`);
          for (const [k, v] of Object.entries(row)) {
            // A JSON key null or missing in every row is no column of the file: no field, no value.
            if (k !== 'id' && !types.has(k)) assert.equal(v, null, `${what}: ${k}`);
            else assert.deepEqual(got[k], v, `${what}: row ${String(row.id)}, ${k} (${types.get(k)})`);
          }
        }
      }
    }
  });

  test('rows past the first 1,000 that the sample did not foresee: the whole file decides the schema, once', async () => {
    // CSV: a code column of numbers until row 1,200, then a postcode; a price that is whole until row 1,100.
    const lines = ['code,price,title'];
    for (let i = 1; i <= 1500; i++) lines.push(`${i > 1200 ? `K1A 0B${i % 10}` : i},${i > 1100 ? i + 0.5 : i},row ${i}`);
    const csv = await create(`${lines.join('\n')}\n`, uniqueName('late_csv'));
    assert.equal(csv.status, 201, JSON.stringify(csv.body));
    const csvJob = await waitForJob(server, token, csv.body.job_id);
    assert.equal(csvJob.status, 'succeeded', JSON.stringify(csvJob.errors));
    assert.equal(csvJob.rows, 1500);
    const widened = [
      { name: 'code', type: 'string' },
      { name: 'price', type: 'number' },
      { name: 'title', type: 'string' },
    ];
    assert.deepEqual(csvJob.inferred_schema?.fields, widened);
    const table = await client(server, token).get(`/oserve/v1/table/${csv.body.table_id}/`);
    assert.deepEqual(table.body.schema.fields, widened);
    const some = await client(server, token).get(
      `/oserve/v1/table/${csv.body.table_id}/record/?where=${encodeURIComponent(JSON.stringify({ title: { $in: ['row 7', 'row 1301'] } }))}&order_by=title`,
    );
    assert.deepEqual(
      some.body.objects.map((r: Record<string, unknown>) => [r.title, r.code, r.price]),
      [
        ['row 1301', 'K1A 0B1', 1301.5],
        ['row 7', '7', 7],
      ],
    );

    // NDJSON: a key first seen on line 1,100 becomes a column of its own.
    const nd = Array.from({ length: 1200 }, (_, i) => JSON.stringify(i >= 1099 ? { n: i, extra: { k: i } } : { n: i })).join('\n');
    const ndjson = await create(nd, uniqueName('late_key'));
    const ndJob = await waitForJob(server, token, ndjson.body.job_id);
    assert.equal(ndJob.status, 'succeeded', JSON.stringify(ndJob.errors));
    assert.deepEqual(ndJob.inferred_schema?.fields, [
      { name: 'n', type: 'integer' },
      { name: 'extra', type: 'object' },
    ]);

    // xlsx: numbers, then text, in one column.
    const aoa: CellInput[][] = [['ref', 'qty']];
    for (let i = 1; i <= 1100; i++) aoa.push([i > 1050 ? `R-${i}` : i, i]);
    const sheet = await create(await xlsxOf(aoa), uniqueName('late_xlsx'));
    const sheetJob = await waitForJob(server, token, sheet.body.job_id);
    assert.equal(sheetJob.status, 'succeeded', JSON.stringify(sheetJob.errors));
    assert.deepEqual(sheetJob.inferred_schema?.fields, [
      { name: 'ref', type: 'string' },
      { name: 'qty', type: 'integer' },
    ]);

    // What no schema takes still fails, with its line: U+0000 in row 1,300.
    const bad = Array.from({ length: 1300 }, (_, i) => JSON.stringify({ t: i === 1299 ? 'a\u0000' : `t${i}` })).join('\n');
    const badRes = await create(bad, uniqueName('late_nul'));
    const badJob = await waitForJob(server, token, badRes.body.job_id);
    assert.equal(badJob.status, 'failed');
    assert.equal(badJob.errors[0]?.line, 1300);
    assert.match(badJob.errors[0]?.error_msg ?? '', /U\+0000/);
  });

  test('a table that holds rows by now is not widened: the import fails on the row as before', async () => {
    const res = await create('n\n1\n2\n', uniqueName('held'));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded');
    const tables = new TablesRepository(server.db);
    const db = await server.db.connect();
    try {
      await db.query('BEGIN');
      const ok = await tables.widenEmpty(db, res.body.table_id, [{ name: 'n', type: 'integer' }], [{ name: 'n', type: 'string' }]);
      assert.equal(ok, false);
      await db.query('ROLLBACK');
    } finally {
      db.release();
    }
    const after_ = await client(server, token).get(`/oserve/v1/table/${res.body.table_id}/`);
    assert.deepEqual(after_.body.schema.fields, [{ name: 'n', type: 'integer' }]);
  });

  test('digits with a leading zero stay text; a built-in column the import would refuse is refused up front', async () => {
    const zips = await create('zip,n\n007,1\n10115,2\n', uniqueName('zips'));
    assert.equal(zips.status, 201, JSON.stringify(zips.body));
    const job = await waitForJob(server, token, zips.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(job.inferred_schema?.fields, [
      { name: 'zip', type: 'string' },
      { name: 'n', type: 'integer' },
    ]);
    assert.deepEqual((await rowsOf(server, token, zips.body.table_id)).map((r) => r.zip).sort(), ['007', '10115']);

    const name = uniqueName('dates_in_created_at');
    const res = await create('title,created_at\na,1700000000\nb,2024-05-01T00:00:00Z\n', name);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error_code, 'invalid_file');
    assert.match(res.body.error_msg, /^line 3, created_at: must be a whole number of seconds since 1970 .*rename the column/);
    const list = await client(server, token).get('/oserve/v1/table/?limit=100');
    assert.ok(!list.body.objects.some((t: { name: string }) => t.name === name), 'no table left behind');
  });

  test('refused up front, leaving no table: a taken name, no name, a column that cannot be a field', async () => {
    const name = uniqueName('taken');
    await client(server, token)
      .post('/oserve/v1/table/')
      .send({ name, schema: { fields: [{ name: 'a', type: 'string' }] } });
    const taken = await create('a\n1\n', name);
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error_code, 'table_exists');
    const noName = await client(server, token).post('/oserve/v1/table/import/').attach('file', Buffer.from('a\n1\n'), 'x.csv');
    assert.equal(noName.status, 400);
    assert.equal(noName.body.parameter, 'name');
    const badName = uniqueName('bad');
    const bad = await create('first name,age\nA,1\n', badName);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'invalid_file');
    assert.match(bad.body.error_msg, /"first name" cannot be a field name/);
    const list = await client(server, token).get('/oserve/v1/table/?limit=100');
    assert.ok(!list.body.objects.some((t: { name: string }) => t.name === badName));
  });
});
