import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { client, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { importBytes, rowsOf, tableWith } from './helpers.js';

const SIMPLE = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
  ],
};

describe('dry runs and error reports', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  test('dry_run validates everything, writes nothing, does not use up the minute, and mails what it would write', async () => {
    const t = await tableWith(server, token, [{ id: 'x', title: 'kept' }], SIMPLE);
    const c = client(server, token);
    for (let i = 0; i < 2; i++) {
      const res = await c
        .post(`/oserve/v1/table/${t}/import/?dry_run=true`)
        .attach('file', Buffer.from('{"title": "a", "qty": 1}\n{"title": "b"}\n'), 'x.ndjson');
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const job = await waitForJob(server, token, res.body.job_id);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
      assert.equal(job.dry_run, true);
      assert.equal(job.rows, 2);
      const mail = await server.smtp.waitForMessage((m) => m.text.includes(job.id));
      assert.match(mail.subject, /Dry run .*no problem, 2 rows would be written/);
    }
    assert.deepEqual(
      (await rowsOf(server, token, t)).map((r) => r.title),
      ['kept'],
    );
    // Duplicates against the table count in a dry run as in a real import; the field works as the query does.
    const dup = await c
      .post(`/oserve/v1/table/${t}/import/`)
      .field('dry_run', 'true')
      .attach('file', Buffer.from('{"id": "x"}\n'), 'x.ndjson');
    assert.equal(dup.status, 201, JSON.stringify(dup.body));
    const dupJob = await waitForJob(server, token, dup.body.job_id);
    assert.equal(dupJob.status, 'failed');
    assert.equal(dupJob.errors[0]?.error_msg, 'line 1, id: "x" is already in the table');
    // The minute is still free for the real import.
    const real = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('{"title": "c"}\n'), 'x.ndjson');
    assert.equal(real.status, 201, JSON.stringify(real.body));
    assert.equal((await waitForJob(server, token, real.body.job_id)).status, 'succeeded');
  });

  test('email=false sends no mail', async () => {
    const t = await tableWith(server, token, [], SIMPLE);
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/?dry_run=true`)
      .field('email', 'false')
      .attach('file', Buffer.from('title\nz\n'), 'x.csv');
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded');
    // A later job's mail arrives; none ever came for this one.
    const later = await importBytes(server, token, 'title\nw\n', { schema: SIMPLE });
    await server.smtp.waitForMessage((m) => m.text.includes(later.job.id));
    assert.equal(server.smtp.messages.filter((m) => m.text.includes(job.id)).length, 0);
  });

  test('a failed import links an error report: the bad rows with their reasons, which imports back once fixed', async () => {
    const csv = 'title,qty\nok,1\nbad,1.5\nfine,2\nworse,x\n';
    const { job, tableId } = await importBytes(server, token, csv, { schema: SIMPLE, name: 'orders.csv' });
    assert.equal(job.status, 'failed');
    assert.ok(job.error_report_url, JSON.stringify(job));
    const mail = await server.smtp.waitForMessage((m) => m.text.includes(job.id));
    assert.ok(mail.text.includes(job.error_report_url), mail.text);
    const res = await fetch(job.error_report_url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    const text = await res.text();
    const records = parse(text, { bom: true }) as string[][];
    assert.deepEqual(records[0], ['id', 'created_at', 'updated_at', 'created_by', 'title', 'qty', '#error']);
    assert.deepEqual(
      records.slice(1).map((r) => [r[4], r[5], r[6]]),
      [
        ['bad', '1.5', 'line 3: qty: must be an integer between -9007199254740991 and 9007199254740991, got "1.5"'],
        ['worse', 'x', 'line 5: qty: must be an integer between -9007199254740991 and 9007199254740991, got "x"'],
      ],
    );
    // Fixed in place and imported as it is, #error column and all.
    const fixed = text.replace(',1.5,', ',15,').replace(',x,', ',16,');
    const again = await importBytes(server, token, fixed, { schema: SIMPLE });
    assert.equal(again.job.status, 'succeeded', JSON.stringify(again.job.errors));
    assert.deepEqual((await rowsOf(server, token, again.tableId)).map((r) => [r.title, r.qty]).sort(), [
      ['bad', 15],
      ['worse', 16],
    ]);
    assert.equal((await rowsOf(server, token, tableId)).length, 0);
  });
});
