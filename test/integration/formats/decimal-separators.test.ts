/**
 * Numbers as European Excel writes them into CSV ("CSV (separated by semicolons)": `;` between cells,
 * `3,5` and `1.234,56`), and as the rest of the world groups them (`1,234.5`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { client, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { importBytes, rowsOf, uniqueName } from './helpers.js';

const SCHEMA = {
  fields: [
    { name: 'item', type: 'string' },
    { name: 'price', type: 'number' },
    { name: 'qty', type: 'integer' },
  ],
};

function values(rows: Array<Record<string, unknown>>): unknown[][] {
  return rows.map((r) => [r.item, r.price, r.qty]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

describe('decimal separators', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  test("European Excel's `;` CSV with decimal commas is detected and read, in Windows-1252 too", async () => {
    const text = 'item;price;qty\nKäse;3,5;1.000\nBrot;1.234,56;2\nÖl;-0,25;3\nWein;7;4\n';
    for (const bytes of [Buffer.from(text), execFileSync('iconv', ['-f', 'UTF-8', '-t', 'CP1252'], { input: text })]) {
      const fields: Record<string, string> = bytes.length === Buffer.byteLength(text) ? {} : { encoding: 'windows-1252' };
      const { job, tableId } = await importBytes(server, token, bytes, { schema: SCHEMA, name: 'prices.csv', fields });
      assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
      assert.equal(job.decimal_separator, ',');
      assert.deepEqual(values(await rowsOf(server, token, tableId)), [
        ['Brot', 1234.56, 2],
        ['Käse', 3.5, 1000],
        ['Öl', -0.25, 3],
        ['Wein', 7, 4],
      ]);
    }
  });

  test('a decimal comma in a `,` file fails saying once what is wrong and which option reads it', async () => {
    const { job } = await importBytes(server, token, 'item,price,qty\nKäse,"3,5",1\n', { schema: SCHEMA, name: 'p.csv' });
    assert.equal(job.status, 'failed');
    assert.equal(
      job.errors[0]?.error_msg,
      'line 2, price: must be a number, got "3,5"; if "," is the decimal separator, set the import option decimal_separator to ","',
    );
    // Named, the same file imports.
    const named = await importBytes(server, token, 'item,price,qty\nKäse,"3,5",1\n', {
      schema: SCHEMA,
      name: 'p.csv',
      fields: { decimal_separator: ',' },
    });
    assert.equal(named.job.status, 'succeeded', JSON.stringify(named.job.errors));
    assert.deepEqual(values(await rowsOf(server, token, named.tableId)), [['Käse', 3.5, 1]]);
  });

  test('cells both readings take are not evidence: a `;` file of "1,234" is not guessed', async () => {
    const { job } = await importBytes(server, token, 'item;price;qty\nA;1,234;1\n', { schema: SCHEMA, name: 'p.csv' });
    assert.equal(job.status, 'failed');
    assert.equal(job.decimal_separator, undefined);
    assert.match(job.errors[0]?.error_msg ?? '', /got "1,234"; if "," is the decimal separator, set the import option decimal_separator/);
  });

  test('decimal_separator="." reads thousands grouped by commas, spaces and apostrophes', async () => {
    const text = 'item\tprice\tqty\nA\t"1,234.5"\t"12,000"\nB\t1 234.5\t1\u00a0000\nC\t1\'234.5\t7\n';
    const { job, tableId } = await importBytes(server, token, text, { schema: SCHEMA, name: 'p.csv', fields: { decimal_separator: '.' } });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(values(await rowsOf(server, token, tableId)), [
      ['A', 1234.5, 12000],
      ['B', 1234.5, 1000],
      ['C', 1234.5, 7],
    ]);
  });

  test('with "," named, a point decimal is refused naming the option, and a bad value keeps its own words', async () => {
    const { job } = await importBytes(server, token, 'item;price;qty\nA;1.5;1\nB;2,5;1,5\n', {
      schema: SCHEMA,
      name: 'p.csv',
      fields: { decimal_separator: ',' },
    });
    assert.equal(job.status, 'failed');
    assert.deepEqual(
      job.errors.filter((e) => e.line).map((e) => e.error_msg),
      [
        'line 2, price: must be a number written with "," as the decimal separator (the import\'s decimal_separator), got "1.5"',
        'line 3, qty: must be an integer between -9007199254740991 and 9007199254740991, got "1,5"',
      ],
    );
    const t = await client(server, token)
      .post('/oserve/v1/table/')
      .send({ name: uniqueName('dec'), schema: SCHEMA });
    const bad = await client(server, token)
      .post(`/oserve/v1/table/${t.body.id}/import/`)
      .field('decimal_separator', ';')
      .attach('file', Buffer.from('item\n'), 'p.csv');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'invalid_parameter');
    assert.match(bad.body.error_msg, /decimal_separator.*must be "\." or ","/);
  });

  test('POST /table/import/ infers number columns from decimal commas', async () => {
    const res = await client(server, token)
      .post('/oserve/v1/table/import/')
      .field('name', uniqueName('eu'))
      .attach('file', Buffer.from('item;price;qty\nKäse;3,5;1.000\nBrot;1.234,56;2\n'), 'prices.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(job.inferred_schema?.fields, [
      { name: 'item', type: 'string' },
      { name: 'price', type: 'number' },
      { name: 'qty', type: 'integer' },
    ]);
    assert.deepEqual(values(await rowsOf(server, token, res.body.table_id)), [
      ['Brot', 1234.56, 2],
      ['Käse', 3.5, 1000],
    ]);
  });
});
