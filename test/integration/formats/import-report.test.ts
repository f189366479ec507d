import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { exportBytes, importBytes, rowsOf, tableWith, uniqueName } from './helpers.js';
import { defined } from '../../helpers/defined.js';

const SIMPLE = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
    { name: 'paid', type: 'boolean' },
    { name: 'due', type: 'date' },
  ],
};

describe('imports people can fix in one go', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  test('every bad field of every bad row is reported, each said once, and nothing is written', async () => {
    const csv = 'title,qty,paid,due\nok,1,true,2024-01-01\nbad,1.5,maybe,2024-01-01\nok2,2,false,\nlate,3,true,yesterday\n';
    const { job, tableId } = await importBytes(server, token, csv, { schema: SIMPLE });
    assert.equal(job.status, 'failed');
    assert.deepEqual(
      job.errors.map((e) => [e.error_msg, e.line, e.field]),
      [
        ['line 3, qty: must be an integer between -9007199254740991 and 9007199254740991, got "1.5"', 3, 'qty'],
        ['line 3, paid: must be true or false, got "maybe"', 3, 'paid'],
        ['line 5, due: must be an ISO 8601 date such as "2024-05-01T12:00:00Z", got "yesterday"', 5, 'due'],
        ['3 problems in 2 rows of the file; no row was written.', undefined, undefined],
      ],
    );
    assert.equal((await rowsOf(server, token, tableId)).length, 0);
  });

  test('NDJSON: a line that is not JSON and unknown keys are problems of their rows, listed with the others', async () => {
    const text = '{"title": "a", "qty": 1}\n{"title": "b", qty: 2}\n{"title": "c", "colour": "red", "qty": "x"}\n[1]\n';
    const { job } = await importBytes(server, token, text, { schema: SIMPLE });
    assert.equal(job.status, 'failed');
    const msgs = job.errors.map((e) => e.error_msg);
    assert.match(defined(msgs[0], 'msgs[0]'), /^line 2: not valid JSON \(.*\); NDJSON needs one whole object per line$/);
    assert.equal(msgs[1], 'line 3, colour: not a field of the table');
    assert.equal(msgs[2], 'line 3, qty: must be an integer between -9007199254740991 and 9007199254740991, got the string "x"');
    assert.equal(msgs[3], 'line 4: a row must be an object of fields, got an array');
    assert.equal(msgs[4], '4 problems in 3 rows of the file; no row was written.');
  });

  test('the list is capped, the total is not', async () => {
    const csv = `qty\n${'x\n'.repeat(150)}`;
    const { job } = await importBytes(server, token, csv, { schema: SIMPLE });
    assert.equal(job.errors.length, 101);
    assert.equal(job.errors.at(-1)?.error_msg, '150 rows of the file are not valid; no row was written.');
  });

  test('every duplicated id is named with its line: repeated in the file or already in the table', async () => {
    const t = await tableWith(server, token, [{ id: 'x', title: 'kept' }], SIMPLE);
    const text = ['a', 'b', 'a', 'x', 'c', 'b', 'a'].map((id) => JSON.stringify({ id, title: id })).join('\n');
    const { job } = await importBytes(server, token, text, { tableId: t });
    assert.equal(job.status, 'failed');
    assert.deepEqual(
      job.errors.map((e) => e.error_msg),
      [
        'line 3, id: "a" already appears on line 1 of the file',
        'line 4, id: "x" is already in the table',
        'line 6, id: "b" already appears on line 2 of the file',
        'line 7, id: "a" already appears on line 1 of the file',
        '4 rows of the file are not valid; no row was written.',
      ],
    );
    assert.deepEqual(
      (await rowsOf(server, token, t)).map((r) => r.title),
      ['kept'],
    );
  });

  test('a JSON array on one line: a repeated id is named like any other, not left to the database', async () => {
    // Every row of a one-line array starts on line 1: the file's line alone cannot tell first from repeat.
    const text = JSON.stringify([
      { id: 'a', title: 'first' },
      { id: 'b', title: 'other' },
      { id: 'a', title: 'again' },
    ]);
    const { job, tableId } = await importBytes(server, token, text, { schema: SIMPLE });
    assert.equal(job.status, 'failed');
    assert.deepEqual(
      job.errors.map((e) => [e.error_code, e.error_msg]),
      [
        ['invalid_row', 'line 1, id: "a" already appears earlier on line 1'],
        ['invalid_row', '1 row of the file is not valid; no row was written.'],
      ],
    );
    assert.deepEqual(await rowsOf(server, token, tableId), []);
    // A dry run finds it too, rather than promising an import that would fail.
    const dry = await importBytes(server, token, text, { schema: SIMPLE, fields: { dry_run: 'true' } });
    assert.equal(dry.job.status, 'failed');
    assert.equal(dry.job.errors[0]?.error_msg, 'line 1, id: "a" already appears earlier on line 1');
  });

  test('on_conflict: skip keeps the existing row, update replaces it; an export restores into its own table', async () => {
    const rows = [
      { id: 'a', title: 'old', qty: 1 },
      { id: 'b', title: 'gone', qty: 2 },
    ];
    const t = await tableWith(server, token, rows, SIMPLE);
    const file = '{"id": "a", "title": "new", "qty": 10}\n{"id": "z", "title": "added"}\n';
    const skip = await importBytes(server, token, file, { tableId: t, fields: { on_conflict: 'skip' } });
    assert.equal(skip.job.status, 'succeeded', JSON.stringify(skip.job.errors));
    assert.equal(skip.job.rows, 1);
    assert.deepEqual(
      (await rowsOf(server, token, t)).map((r) => [r.id, r.title, r.qty]),
      [
        ['a', 'old', 1],
        ['b', 'gone', 2],
        ['z', 'added', null],
      ],
    );

    const t2 = await tableWith(server, token, rows, SIMPLE);
    const upd = await importBytes(server, token, file, { tableId: t2, fields: { on_conflict: 'update' } });
    assert.equal(upd.job.status, 'succeeded', JSON.stringify(upd.job.errors));
    assert.equal(upd.job.rows, 2);
    assert.deepEqual(
      (await rowsOf(server, token, t2)).map((r) => [r.id, r.title, r.qty]),
      [
        ['a', 'new', 10],
        ['b', 'gone', 2],
        ['z', 'added', null],
      ],
    );

    // Restore: the table's own export, imported back over it, leaves it as it was.
    const t3 = await tableWith(server, token, rows, SIMPLE);
    const before_ = await rowsOf(server, token, t3);
    const { bytes } = await exportBytes(server, token, t3, { file_type: 'ndjson' });
    const restored = await importBytes(server, token, bytes, { tableId: t3, fields: { on_conflict: 'update' } });
    assert.equal(restored.job.status, 'succeeded', JSON.stringify(restored.job.errors));
    assert.deepEqual(await rowsOf(server, token, t3), before_);
  });

  test('on_conflict still refuses ids repeated within the file, and a bad value is invalid_parameter', async () => {
    const t = await tableWith(server, token, [], SIMPLE);
    const { job } = await importBytes(server, token, '{"id": "a"}\n{"id": "a"}\n', { tableId: t, fields: { on_conflict: 'update' } });
    assert.equal(job.status, 'failed');
    assert.equal(job.errors[0]?.error_msg, 'line 2, id: "a" already appears on line 1 of the file');
    const t2 = await tableWith(server, token, [], SIMPLE);
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t2}/import/`)
      .field('on_conflict', 'merge')
      .attach('file', Buffer.from('{}\n'), 'x.ndjson');
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 'invalid_parameter');
    assert.equal(res.body.parameter, 'on_conflict');
  });

  test('a header-only CSV and [] are a succeeded import of 0 rows; an empty table exported as CSV or JSON imports back', async () => {
    for (const [bytes, name] of [
      [Buffer.from('title,qty\n'), 'header-only.csv'],
      [Buffer.from('[]'), 'none.json'],
      [gzipSync('[]'), 'none.json.gz'],
    ] as const) {
      const { job } = await importBytes(server, token, bytes, { name, schema: SIMPLE });
      assert.equal(job.status, 'succeeded', `${name}: ${JSON.stringify(job.errors)}`);
      assert.equal(job.rows, 0);
    }
    for (const file_type of ['csv', 'json']) {
      const empty = await tableWith(server, token, [], SIMPLE);
      const { bytes, job } = await exportBytes(server, token, empty, { file_type, compression: 'gzip' });
      assert.equal(job.rows, 0);
      const back = await importBytes(server, token, bytes, { schema: SIMPLE });
      assert.equal(back.job.status, 'succeeded', `${file_type}: ${JSON.stringify(back.job.errors)}`);
    }
  });

  test('an empty upload (0 bytes, gzip of nothing, only white space) is 400 invalid_file before any job exists', async () => {
    // NDJSON of an empty table is 0 bytes: it is refused like any empty file (API.md: "empty (0 bytes)").
    const empty = await tableWith(server, token, [], SIMPLE);
    const ndjson = await exportBytes(server, token, empty, { file_type: 'ndjson', compression: 'gzip' });
    const jobsBefore = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tableport.jobs');
    for (const [bytes, name, message] of [
      [Buffer.alloc(0), 'empty.ndjson', /^The file is empty \(0 bytes\): there is nothing to import/],
      [gzipSync(''), 'empty.ndjson.gz', /^The file is gzip-compressed and decompresses to 0 bytes/],
      [ndjson.bytes, 'export.ndjson.gz', /^The file is gzip-compressed and decompresses to 0 bytes/],
      [Buffer.from(' \n\n'), 'blank.jsonl', /^The file holds nothing but white space/],
    ] as const) {
      const t = await createTable(server, token, uniqueName('empty'), SIMPLE);
      const res = await client(server, token).post(`/oserve/v1/table/${t}/import/`).attach('file', bytes, name);
      assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error_code, 'invalid_file', name);
      assert.match(res.body.error_msg, message, name);
      assert.match(res.body.error_msg, /A CSV file needs at least its header line, a JSON file at least \[\]\./, name);
    }
    const jobsAfter = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tableport.jobs');
    assert.equal(jobsAfter.rows[0]?.n, jobsBefore.rows[0]?.n, 'no job was queued');
  });

  test('corrupt files fail with a clear invalid_file: a cut gzip, a cut JSON array, an unclosed CSV quote', async () => {
    const big = `title\n${Array.from({ length: 4000 }, () => randomBytes(24).toString('hex')).join('\n')}\n`;
    const gz = gzipSync(big);
    const cases: Array<[Buffer, RegExp]> = [
      [gz.subarray(0, Math.floor(gz.length * 0.8)), /gzip-compressed but cannot be decompressed/],
      [Buffer.from('[{"title": "a"},\n{"title": "b"'), /ends inside|never closed|end/i],
      [Buffer.from('title\n"open\n'), /never closed/],
    ];
    for (const [bytes, message] of cases) {
      // A file whose fault lies in its first 64 KiB is refused at once; a later fault fails the job.
      const t = await createTable(server, token, uniqueName('corrupt'), SIMPLE);
      const res = await client(server, token).post(`/oserve/v1/table/${t}/import/`).attach('file', bytes, 'upload');
      let error: { error_code: string; error_msg: string };
      if (res.status === 400) error = res.body;
      else {
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const job = await waitForJob(server, token, res.body.job_id);
        assert.equal(job.status, 'failed');
        error = defined(job.errors[0], 'job.errors[0]');
      }
      assert.equal(error.error_code, 'invalid_file', JSON.stringify(error));
      assert.match(error.error_msg, message);
    }
  });

  test('csv_header=false with columns that are not fields is refused up front', async () => {
    const t = await createTable(server, token, uniqueName('x'), SIMPLE);
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .field('csv_header', 'false')
      .field('columns', 'title,colour')
      .attach('file', Buffer.from('a,b\n'), 'x.csv');
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 'invalid_file');
    assert.match(res.body.error_msg, /"colour"/);
  });
});
