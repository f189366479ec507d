/**
 * Bundles between two real deployments (two databases, two Redis prefixes, two SMTP servers):
 * export a workspace from one, import it into the other in each mode, and check the tables and
 * rows a user would see; all or nothing; rename; the status; isolation between users.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { client, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { exportBundle, importBundle, makeTable, NOTES_SCHEMA, ORDERS_SCHEMA, orderRows, workspace } from './helpers.js';

describe('bundles between two deployments', () => {
  let staging: TestServer;
  let prod: TestServer;
  let source: { token: string; email: string };
  let bundle: Buffer;

  before(async () => {
    [staging, prod] = await Promise.all([startTestServer(), startTestServer()]);
    source = await staging.createUser();
    await makeTable(staging, source.token, 'orders', ORDERS_SCHEMA, orderRows(2500));
    await makeTable(staging, source.token, 'notes', NOTES_SCHEMA, [{ body: 'first' }, { body: 'second', created_at: 1600000000 }]);
    await makeTable(staging, source.token, 'empty', NOTES_SCHEMA, []);
    bundle = (await exportBundle(staging, source.token)).bytes;
  });
  after(async () => {
    await Promise.all([staging?.close(), prod?.close()]);
  });

  test('the export is the contract shape, mailed with a link like an export', async () => {
    const b = JSON.parse(bundle.toString('utf8'));
    assert.equal(b.format, 'tableport.bundle');
    assert.equal(b.version, 1);
    assert.equal(typeof b.exported_at, 'number');
    assert.deepEqual(Object.keys(b.tables), ['orders', 'notes', 'empty']);
    assert.deepEqual(b.tables.orders.schema, ORDERS_SCHEMA);
    assert.equal(b.tables.orders.rows.length, 2500);
    assert.deepEqual(b.tables.empty.rows, []);
    const mail = await staging.smtp.waitForMessage((m) => m.to.includes(source.email));
    assert.match(mail.text, /\/oserve\/v1\/files\//);
  });

  test('reset into an empty deployment gives identical tables and rows', async () => {
    const target = await prod.createUser();
    const { job, status } = await importBundle(prod, target.token, bundle);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.type, 'bundle_import');
    assert.equal(job.table_id, null);
    assert.equal(job.rows, 2502);
    assert.deepEqual(status, { job_id: job.id, status: 'succeeded', tables: { orders: '', notes: '', empty: '' } });
    assert.deepEqual(await workspace(prod, target.token), await workspace(staging, source.token));
  });

  test('reset drops the tables the bundle does not have; replace keeps them; both recreate the bundle tables', async () => {
    for (const mode of ['reset', 'replace'] as const) {
      const target = await prod.createUser();
      await makeTable(prod, target.token, 'orders', NOTES_SCHEMA, [{ body: 'old row' }]);
      await makeTable(prod, target.token, 'mine', NOTES_SCHEMA, [{ body: 'keep me?' }]);
      const { job } = await importBundle(prod, target.token, bundle, `?mode=${mode}`);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
      const got = await workspace(prod, target.token);
      const want = await workspace(staging, source.token);
      assert.deepEqual(got.orders, want.orders, `${mode}: orders recreated with the bundle's schema and rows only`);
      assert.deepEqual(Object.keys(got).sort(), mode === 'reset' ? ['empty', 'notes', 'orders'] : ['empty', 'mine', 'notes', 'orders']);
    }
  });

  test('merge appends to a table with the same fields, creates missing ones, and a field mismatch fails that table', async () => {
    const target = await prod.createUser();
    await makeTable(prod, target.token, 'notes', { fields: [{ name: 'body', type: 'string' }] }, [{ id: 'mine1', body: 'mine' }]);
    const { job, status } = await importBundle(prod, target.token, bundle, '?mode=merge');
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const got = await workspace(prod, target.token);
    assert.deepEqual(got.notes?.rows.map((r) => r.body).sort(), ['first', 'mine', 'second']);
    assert.equal(got.orders?.rows.length, 2500);
    assert.deepEqual(status.tables, { orders: '', notes: '', empty: '' });

    const other = await prod.createUser();
    await makeTable(prod, other.token, 'notes', { fields: [{ name: 'body', type: 'integer' }] }, [{ body: 7 }]);
    const before = await workspace(prod, other.token);
    const failed = await importBundle(prod, other.token, bundle, '?mode=merge');
    assert.equal(failed.job.status, 'failed');
    assert.equal(
      failed.status.tables.notes,
      'the table "notes" exists with other fields: "body" is string in the bundle, integer in the table',
    );
    assert.equal(failed.status.tables.orders, '');
    assert.deepEqual(await workspace(prod, other.token), before, 'nothing changed, not even the tables that were fine');
  });

  test('one bad row changes nothing anywhere, and the status names its table and line', async () => {
    const target = await prod.createUser();
    await makeTable(prod, target.token, 'mine', NOTES_SCHEMA, [{ body: 'untouched' }]);
    const before = await workspace(prod, target.token);
    const b = JSON.parse(bundle.toString('utf8'));
    b.tables.notes.rows[1].body = 12345;
    const text = JSON.stringify(b, null, 1);
    const { job, status } = await importBundle(prod, target.token, text);
    assert.equal(job.status, 'failed');
    assert.equal(status.status, 'failed');
    assert.equal(status.tables.orders, '');
    const line = text.split('\n').findIndex((l) => l.includes('12345')) + 1;
    assert.match(status.tables.notes ?? '', /1 row is not valid: line \d+, body: /);
    assert.ok(
      job.errors.some((e) => e.table === 'notes' && e.error_msg.startsWith('table "notes": line ')),
      JSON.stringify(job.errors),
    );
    assert.ok(line > 0);
    assert.deepEqual(await workspace(prod, target.token), before);
  });

  test("a duplicate id is that table's failure, and nothing is kept", async () => {
    const target = await prod.createUser();
    const b = JSON.parse(bundle.toString('utf8'));
    b.tables.notes.rows[1].id = b.tables.notes.rows[0].id;
    const { job, status } = await importBundle(prod, target.token, JSON.stringify(b));
    assert.equal(job.status, 'failed');
    assert.match(status.tables.notes ?? '', /row 2: the id ".*" appears twice/);
    assert.deepEqual(await workspace(prod, target.token), {});
  });

  test('rename imports a table under another name (and a rename of a missing table fails)', async () => {
    const target = await prod.createUser();
    const { job, status } = await importBundle(prod, target.token, bundle, '?mode=replace', { rename: 'orders=orders_v2' });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(status.tables, { orders_v2: '', notes: '', empty: '' });
    const got = await workspace(prod, target.token);
    assert.equal(got.orders_v2?.rows.length, 2500);
    assert.equal(got.orders, undefined);

    const other = await prod.createUser();
    const bad = await importBundle(prod, other.token, bundle, '', { rename: JSON.stringify({ nope: 'x' }) });
    assert.equal(bad.job.status, 'failed');
    assert.ok(bad.job.errors.some((e) => e.error_msg.includes('"rename" names the table "nope"')));
  });

  test('content and gzip: the same bundle as JSON text, and gzip-compressed', async () => {
    const target = await prod.createUser();
    const res = await client(prod, target.token)
      .post('/oserve/v1/data/import/')
      .send({ content: bundle.toString('utf8'), mode: 'reset' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(prod, target.token, res.body.job_id, 60_000);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));

    const gz = (await exportBundle(staging, (await staging.createUser()).token, {})).bytes; // an empty workspace
    assert.deepEqual(JSON.parse(gz.toString()).tables, {});
    const zipped = await client(staging, source.token).get('/oserve/v1/data/export/?include_rows=false&compression=gzip');
    assert.equal(zipped.status, 200);
    const other = await prod.createUser();
    const imported = await importBundle(prod, other.token, zipped.body as Buffer);
    assert.equal(imported.job.status, 'succeeded', JSON.stringify(imported.job.errors));
    const got = await workspace(prod, other.token);
    assert.deepEqual(Object.keys(got), ['orders', 'notes', 'empty']);
    assert.equal(got.orders?.rows.length, 0);
    assert.deepEqual(JSON.parse(gunzipSync(zipped.body as Buffer).toString()).tables.notes.rows, []);
  });

  test('the download: schema only, small selections, and too_many_rows past 10,000', async () => {
    const c = client(staging, source.token);
    const schemaOnly = await c.get('/oserve/v1/data/export/?tables=notes,empty&include_rows=false');
    assert.equal(schemaOnly.status, 200);
    assert.match(schemaOnly.headers['content-disposition'] ?? '', /attachment; filename="bundle_\d{8}_\d{6}\.json"/);
    const b = JSON.parse(schemaOnly.text);
    assert.deepEqual(Object.keys(b.tables), ['notes', 'empty']);
    assert.deepEqual(b.tables.notes, { schema: NOTES_SCHEMA, rows: [] });
    const small = await c.get('/oserve/v1/data/export/?tables=notes');
    assert.equal(JSON.parse(small.text).tables.notes.rows.length, 2);
    const unknown = await c.get('/oserve/v1/data/export/?tables=nope');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error_code, 'invalid_parameter');

    const big = await staging.createUser();
    await makeTable(
      staging,
      big.token,
      'big',
      NOTES_SCHEMA,
      Array.from({ length: 10_001 }, (_, k) => ({ body: String(k) })),
    );
    const refused = await client(staging, big.token).get('/oserve/v1/data/export/');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error_code, 'too_many_rows');
    assert.equal((await client(staging, big.token).get('/oserve/v1/data/export/?include_rows=false')).status, 200);
  });

  test('a MinApp where per table selects the rows of the bundle; a bad one is 400 naming it', async () => {
    const u = await staging.createUser();
    await makeTable(staging, u.token, 'orders', ORDERS_SCHEMA, orderRows(50));
    await makeTable(staging, u.token, 'notes', NOTES_SCHEMA, [{ body: 'all of me' }]);
    const bad = await client(staging, u.token)
      .post('/oserve/v1/data/export/')
      .send({ where: { orders: { nope: 1 } } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'invalid_parameter');
    assert.match(bad.body.parameter, /^where\.orders/);
    const missing = await client(staging, u.token)
      .post('/oserve/v1/data/export/')
      .send({ tables: ['notes'], where: { orders: { qty: 1 } } });
    assert.equal(missing.body.parameter, 'where.orders');
    const { bytes } = await exportBundle(staging, u.token, { where: { orders: { qty: { $gte: 45 } } } });
    const b = JSON.parse(bytes.toString());
    assert.deepEqual(
      b.tables.orders.rows.map((r: { qty: number }) => r.qty),
      [46, 47, 48, 49],
    );
    assert.equal(b.tables.notes.rows.length, 1);
  });

  test('another user sees none of it: their own workspace, status and jobs only', async () => {
    const a = await prod.createUser();
    const b = await prod.createUser();
    const { job } = await importBundle(prod, a.token, bundle);
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(await workspace(prod, b.token), {});
    const status = await client(prod, b.token).get('/oserve/v1/data/import/status/');
    assert.equal(status.status, 404);
    assert.equal((await client(prod, b.token).get(`/oserve/v1/jobs/${job.id}`)).status, 404);
    // b's reset does not touch a's tables.
    const { job: bJob } = await importBundle(prod, b.token, '{"format":"tableport.bundle","version":1,"tables":{}}');
    assert.equal(bJob.status, 'succeeded');
    assert.equal(Object.keys(await workspace(prod, a.token)).length, 3);
    const exported = JSON.parse((await client(prod, b.token).get('/oserve/v1/data/export/')).text);
    assert.deepEqual(exported.tables, {});
  });

  test('one bundle import and one bundle export per user per minute', async () => {
    const u = await prod.createUser();
    const first = await client(prod, u.token)
      .post('/oserve/v1/data/import/')
      .send({ content: '{"format":"tableport.bundle","version":1,"tables":{}}' });
    assert.equal(first.status, 201);
    const second = await client(prod, u.token)
      .post('/oserve/v1/data/import/')
      .send({ content: '{"format":"tableport.bundle","version":1,"tables":{}}' });
    assert.equal(second.status, 400);
    assert.equal(second.body.error_code, 'too_frequent');
    assert.ok(second.body.retry_after > 0);
    assert.equal((await client(prod, u.token).post('/oserve/v1/data/export/').send({})).status, 201);
    const again = await client(prod, u.token).post('/oserve/v1/data/export/').send({});
    assert.equal(again.body.error_code, 'too_frequent');
    // Another user has a minute of their own.
    assert.equal(
      (
        await client(prod, (await prod.createUser()).token)
          .post('/oserve/v1/data/export/')
          .send({})
      ).status,
      201,
    );
  });
});
