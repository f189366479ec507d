import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'csv-stringify/sync';
import { client } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { AWKWARD_ROWS, exportBytes, importBytes, rowsOf, tableWith } from './helpers.js';
import { defined } from '../../helpers/defined.js';

describe('formats: round trips and files from other writers', () => {
  let server: TestServer;
  let token: string;
  let before_: Array<Record<string, unknown>>;
  let src: number;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
    src = await tableWith(server, token, AWKWARD_ROWS);
    before_ = await rowsOf(server, token, src);
  });
  after(() => server.close());

  const cases: Array<[string, object, (b: Buffer) => void]> = [
    ['csv', { file_type: 'csv' }, (b) => assert.match(b.toString(), /^id,created_at,updated_at,created_by,title,/)],
    ['json', { file_type: 'json' }, (b) => assert.equal(JSON.parse(b.toString()).length, 4)],
    ['ndjson', { file_type: 'ndjson' }, (b) => assert.equal(b.toString().trimEnd().split('\n').length, 4)],
    [
      'ndjson, gzip',
      { file_type: 'ndjson', compression: 'gzip' },
      (b) => assert.equal(gunzipSync(b).toString().trimEnd().split('\n').length, 4),
    ],
    ['csv, gzip', { file_type: 'csv', compression: 'gzip' }, (b) => assert.match(gunzipSync(b).toString(), /^id,/)],
    [
      'csv with ; and a BOM',
      { file_type: 'csv', csv_delimiter: ';', csv_bom: true },
      (b) => assert.match(b.toString('latin1'), /^\xef\xbb\xbfid;created_at;updated_at;/),
    ],
    ['csv with tabs', { file_type: 'csv', csv_delimiter: '\t' }, (b) => assert.match(b.toString(), /^id\tcreated_at\t/)],
    [
      'parquet',
      { file_type: 'parquet' },
      (b) => assert.equal(b.subarray(0, 4).toString('latin1') + b.subarray(-4).toString('latin1'), 'PAR1PAR1'),
    ],
    [
      'parquet, gzip',
      { file_type: 'parquet', compression: 'gzip' },
      (b) => assert.equal(gunzipSync(b).subarray(0, 4).toString('latin1'), 'PAR1'),
    ],
    ['xlsx', { file_type: 'xlsx' }, (b) => assert.equal(b.subarray(0, 4).toString('latin1'), 'PK\x03\x04')],
  ];
  for (const [label, body, check] of cases) {
    test(`${label}: export → import gives identical rows`, async () => {
      const { bytes, job } = await exportBytes(server, token, await tableWith(server, token, AWKWARD_ROWS), body);
      check(bytes);
      assert.equal(job.rows, 4);
      if ((body as { compression?: string }).compression === 'gzip') assert.match(defined(job.file_name, 'job.file_name'), /\.gz$/);
      const { job: imp, tableId } = await importBytes(server, token, bytes, { name: defined(job.file_name, 'job.file_name') });
      assert.equal(imp.status, 'succeeded', JSON.stringify(imp.errors));
      assert.equal(imp.rows, 4);
      assert.deepEqual(await rowsOf(server, token, tableId), before_);
    });
  }

  test('csv without a header: import with csv_header=false and the schema order, or named columns', async () => {
    const { bytes } = await exportBytes(server, token, await tableWith(server, token, AWKWARD_ROWS), {
      file_type: 'csv',
      csv_header: false,
    });
    assert.match(bytes.toString(), /^a,10,10,/);
    const { job, tableId } = await importBytes(server, token, bytes, {
      fields: { csv_header: 'false', columns: 'id,created_at,updated_at,created_by,title,qty,price,paid,due,tags,meta' },
    });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(await rowsOf(server, token, tableId), before_);
    const plain = await importBytes(server, token, 'hello;3\nworld;4\n', { fields: { csv_header: 'false', columns: 'title,qty' } });
    assert.equal(plain.job.status, 'succeeded', JSON.stringify(plain.job.errors));
    assert.deepEqual((await rowsOf(server, token, plain.tableId)).map((r) => [r.title, r.qty]).sort(), [
      ['hello', 3],
      ['world', 4],
    ]);
  });

  test('download types: NDJSON, SQL and gzip files say what they are', async () => {
    const types: Array<[object, RegExp]> = [
      [{ file_type: 'ndjson' }, /^application\/x-ndjson/],
      [{ file_type: 'sql' }, /^application\/sql/],
      [{ file_type: 'json', compression: 'gzip' }, /^application\/gzip/],
    ];
    for (const [body, type] of types) {
      const { contentType } = await exportBytes(server, token, await tableWith(server, token, AWKWARD_ROWS), body);
      assert.match(contentType, type);
    }
  });

  test('a CSV written by csv-stringify with ";" (European Excel), with a BOM and CRLF, is imported', async () => {
    const records = [
      ['title', 'qty', 'price', 'paid', 'due', 'tags', 'meta'],
      ['Smith; "Al"\nJr.', '3', '2.5', 'TRUE', '2024-05-01', '[1,"a"]', '{"k":true}'],
      ['中文 🎉', '', '', '', '', '', ''],
    ];
    const csv = `\ufeff${stringify(records, { delimiter: ';', record_delimiter: 'windows' })}`;
    const { job, tableId } = await importBytes(server, token, csv, { name: 'excel.csv' });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const rows = await rowsOf(server, token, tableId);
    const al = defined(
      rows.find((r) => r.qty === 3),
      'the row with qty 3',
    );
    assert.equal(al.title, 'Smith; "Al"\nJr.');
    assert.equal(al.paid, true);
    assert.equal(al.due, '2024-05-01T00:00:00.000Z');
    assert.deepEqual(al.tags, [1, 'a']);
    assert.ok(rows.some((r) => r.title === '中文 🎉' && r.qty === null));
  });

  test('NDJSON written by hand (CRLF, blank lines, no final newline, keys in any order) and a .jsonl name', async () => {
    const text =
      '{"qty": 1, "title": "one"}\r\n\r\n{"meta": {"x": [1]}, "title": "two", "id": "t2", "created_at": 5}\n   \n{"title": null}';
    const { job, tableId } = await importBytes(server, token, text, { name: 'rows.jsonl' });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 3);
    const rows = await rowsOf(server, token, tableId);
    const two = defined(
      rows.find((r) => r.id === 't2'),
      'row t2',
    );
    assert.deepEqual([two.title, two.created_at, two.meta], ['two', 5, { x: [1] }]);
  });

  test('a pipe-separated file and an explicit csv_delimiter', async () => {
    const piped = await importBytes(server, token, 'title|qty\na,b|1\n');
    assert.equal(piped.job.status, 'succeeded', JSON.stringify(piped.job.errors));
    assert.deepEqual(
      (await rowsOf(server, token, piped.tableId)).map((r) => [r.title, r.qty]),
      [['a,b', 1]],
    );
    const given = await importBytes(server, token, 'title;qty\nx;2\n', { fields: { csv_delimiter: ';' } });
    assert.equal(given.job.status, 'succeeded', JSON.stringify(given.job.errors));
  });

  test('export options are checked: bad delimiter, compression, flags', async () => {
    const c = client(server, token);
    for (const [body, param] of [
      [{ file_type: 'csv', csv_delimiter: ';;' }, 'csv_delimiter'],
      [{ file_type: 'csv', csv_delimiter: '"' }, 'csv_delimiter'],
      [{ file_type: 'csv', compression: 'zip' }, 'compression'],
      [{ file_type: 'csv', csv_header: 'maybe' }, 'csv_header'],
      [{ file_type: 'pdf' }, 'file_type'],
    ] as const) {
      const res = await c.post(`/oserve/v1/table/${src}/export/`).send({ mode: 'all', ...body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error_code, 'invalid_parameter');
      assert.equal(res.body.parameter, param, JSON.stringify(res.body));
    }
  });
});
