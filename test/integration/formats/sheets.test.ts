/**
 * Workbooks of several sheets, written by write-excel-file (and SheetJS, the fixtures of test/fixtures/formats):
 * the sheet named in `sheet`, or the one whose header names the table's fields; never a silent
 * import of part of a workbook.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { client, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { type CellInput, workbookOf } from '../../helpers/xlsx.js';
import { importBytes, rowsOf, uniqueName } from './helpers.js';

const SCHEMA = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
  ],
};

/** A workbook of named sheets, each a list of rows (the first its header). */
const workbook = (sheets: Parameters<typeof workbookOf>[0]): Promise<Buffer> => workbookOf(sheets);

const COVER = [['Summary'], ['Quarterly stock, prepared by Finance']];
const DATA = [
  ['title', 'qty'],
  ['apple', 3],
  ['pear', 5],
];
const MORE = [
  ['title', 'qty'],
  ['plum', 7],
];

const titles = (rows: Array<Record<string, unknown>>) => rows.map((r) => [r.title, r.qty]).sort((a, b) => Number(a[1]) - Number(b[1]));

describe('xlsx sheets', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  async function newTable(): Promise<number> {
    const t = await client(server, token)
      .post('/oserve/v1/table/')
      .send({ name: uniqueName('sheets'), schema: SCHEMA });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    return t.body.id as number;
  }

  async function upload(bytes: Buffer, fields: Record<string, string> = {}) {
    let req = client(server, token).post(`/oserve/v1/table/${await newTable()}/import/`);
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    return req.attach('file', bytes, 'book.xlsx');
  }

  test('a cover sheet first: the sheet whose header names the fields is read, and the job says which', async () => {
    const { job, tableId } = await importBytes(server, token, await workbook({ Cover: COVER, Stock: DATA }), {
      schema: SCHEMA,
      name: 'book.xlsx',
    });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.sheet, 'Stock');
    assert.deepEqual(titles(await rowsOf(server, token, tableId)), [
      ['apple', 3],
      ['pear', 5],
    ]);
  });

  test('two sheets of data: refused listing them, never one imported in silence', async () => {
    const res = await upload(await workbook({ January: DATA, February: MORE, Notes: COVER }));
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error_code, 'invalid_file');
    assert.equal(
      res.body.error_msg,
      'The workbook has 3 sheets and 2 of them ("January", "February") have a header row naming fields of the table; ' +
        'name the one to import in the option "sheet" (its name, or its position from 1), and import the others one by one.',
    );
  });

  test('no sheet whose header matches: refused listing the sheets', async () => {
    const res = await upload(
      await workbook({
        Cover: COVER,
        Other: [
          ['a', 'b'],
          [1, 2],
        ],
      }),
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 'invalid_file');
    assert.match(
      res.body.error_msg,
      /2 sheets \("Cover", "Other"\) and none has a header row naming only fields of the table; name the one to import in the option "sheet"/,
    );
  });

  test('sheet by name (any case) or by position; one the workbook lacks is an invalid parameter listing its sheets', async () => {
    const book = await workbook({ January: DATA, February: MORE });
    for (const sheet of ['February', 'february', '2']) {
      const res = await upload(book, { sheet });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const job = await waitForJob(server, token, res.body.job_id);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
      assert.equal(job.sheet, 'February');
      assert.deepEqual(titles(await rowsOf(server, token, job.table_id as number)), [['plum', 7]]);
    }
    const res = await upload(book, { sheet: 'March' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 'invalid_parameter');
    assert.equal(
      res.body.error_msg,
      'The workbook has no sheet "March"; its sheets are "January", "February": give one of these names, or a position from 1 to 2.',
    );
    assert.equal((await upload(book, { sheet: '3' })).body.error_code, 'invalid_parameter');
  });

  test('a bad row names its sheet', async () => {
    const { job } = await importBytes(
      server,
      token,
      await workbook({
        Cover: COVER,
        Stock: [
          ['title', 'qty'],
          ['apple', 'many'],
        ],
      }),
      {
        schema: SCHEMA,
        name: 'book.xlsx',
      },
    );
    assert.equal(job.status, 'failed');
    assert.equal(job.sheet, 'Stock');
    assert.match(job.errors[0]?.error_msg ?? '', /^line 2, qty: /);
  });

  test("SheetJS's two-sheet fixture: its Data sheet is found by its header", async () => {
    const bytes = await readFile(join(import.meta.dirname, '../../fixtures/formats/sheetjs-sst.xlsx'));
    const schema = {
      fields: ['name', 'qty', 'price', 'ok', 'at', 'day', 'note'].map((name) => ({
        name,
        type:
          name === 'qty'
            ? 'integer'
            : name === 'price'
              ? 'number'
              : name === 'ok'
                ? 'boolean'
                : name === 'at' || name === 'day'
                  ? 'date'
                  : 'string',
      })),
    };
    const { job, tableId } = await importBytes(server, token, bytes, { schema, name: 'sheetjs.xlsx' });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.sheet, 'Data');
    assert.equal((await rowsOf(server, token, tableId)).length, 4);
  });

  test('POST /table/import/ of a workbook of several sheets needs "sheet"', async () => {
    const book = await workbook({ Cover: COVER, Stock: DATA });
    const refused = await client(server, token)
      .post('/oserve/v1/table/import/')
      .field('name', uniqueName('wb'))
      .attach('file', book, 'b.xlsx');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error_code, 'invalid_file');
    assert.match(
      refused.body.error_msg,
      /The workbook has 2 sheets \("Cover", "Stock"\) and 2 of them \("Cover", "Stock"\) hold rows; name the one to import in the option "sheet"/,
    );
    const res = await client(server, token)
      .post('/oserve/v1/table/import/')
      .field('name', uniqueName('wb'))
      .field('sheet', 'Stock')
      .attach('file', book, 'b.xlsx');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.sheet, 'Stock');
    assert.deepEqual(titles(await rowsOf(server, token, res.body.table_id)), [
      ['apple', 3],
      ['pear', 5],
    ]);
  });

  test('POST /table/import/ with sheets=all: one table per sheet with rows, each schema its own, all or nothing', async () => {
    const name = uniqueName('book');
    const book = await workbook({
      Cover: [['Summary']],
      '2024 Sales': [
        ['region', 'amount'],
        ['north', 1.5],
        ['south', 2],
      ],
      客户: [
        ['customer', 'since', 'vip'],
        ['王五', '2020-01-02', true],
      ],
    });
    const res = await client(server, token)
      .post('/oserve/v1/table/import/')
      .field('name', name)
      .field('sheets', 'all')
      .attach('file', book, 'b.xlsx');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.tables.map((t: { sheet: string; table_name: string }) => [t.sheet, t.table_name]),
      [
        ['2024 Sales', `${name}_2024_sales`],
        ['客户', `${name}_sheet3`],
      ],
    );
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 3);
    assert.equal(job.sheet_tables?.length, 2);
    const [sales, customers] = res.body.tables as Array<{ table_id: number }>;
    const t1 = await client(server, token).get(`/oserve/v1/table/${sales?.table_id}/`);
    assert.deepEqual(t1.body.schema.fields, [
      { name: 'region', type: 'string' },
      { name: 'amount', type: 'number' },
    ]);
    assert.deepEqual((await rowsOf(server, token, sales?.table_id as number)).map((r) => [r.region, r.amount]).sort(), [
      ['north', 1.5],
      ['south', 2],
    ]);
    const c = await rowsOf(server, token, customers?.table_id as number);
    assert.deepEqual([c[0]?.customer, c[0]?.vip], ['王五', true]);
  });

  test('sheets=all: a bad row in the second sheet writes no row of the first, naming the sheet', async () => {
    const name = uniqueName('bad');
    const rows: CellInput[][] = [['n']];
    for (let i = 0; i < 1001; i++) rows.push([i]);
    rows.push(['not a number']);
    const book = await workbook({ First: DATA, Second: rows });
    const res = await client(server, token)
      .post('/oserve/v1/table/import/')
      .field('name', name)
      .field('sheets', 'all')
      .attach('file', book, 'b.xlsx');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'failed');
    assert.match(job.errors[0]?.error_msg ?? '', /^sheet "Second": line 1003, n: must be an integer/);
    const [first] = res.body.tables as Array<{ table_id: number }>;
    assert.deepEqual(await rowsOf(server, token, first?.table_id as number), []);
    const csv = await client(server, token)
      .post('/oserve/v1/table/import/')
      .field('name', uniqueName('c'))
      .field('sheets', 'all')
      .attach('file', Buffer.from('a\n1\n'), 'a.csv');
    assert.equal(csv.status, 400);
    assert.equal(csv.body.error_code, 'invalid_parameter');
    assert.match(csv.body.error_msg, /sheets=all makes one table per sheet of an xlsx workbook; this file is CSV/);
  });
});
