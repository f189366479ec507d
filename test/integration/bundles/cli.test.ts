/**
 * The bundle verbs as a user runs them (a child process per command, against real servers):
 * `data export`, `data import`, `getstatus import`, and `migrate` from one deployment to another.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { makeTable, NOTES_SCHEMA, ORDERS_SCHEMA, orderRows, workspace } from './helpers.js';
import { runTableport } from '../../helpers/cli.js';

const tableport = runTableport;

describe('bundle CLI verbs against two real servers', () => {
  let staging: TestServer;
  let prod: TestServer;
  let dir: string;
  let from: Record<string, string>;
  let to: Record<string, string>;

  before(async () => {
    // The same user exports twice here (data export, then migrate): a one-second minute.
    [staging, prod] = await Promise.all([startTestServer({ env: { TASK_INTERVAL_SECONDS: '1' } }), startTestServer()]);
    dir = await mkdtemp(join(tmpdir(), 'tp-bundle-cli-'));
    const a = await staging.createUser();
    from = { TABLEPORT_URL: staging.baseUrl, TABLEPORT_TOKEN: a.token };
    await makeTable(staging, a.token, 'orders', ORDERS_SCHEMA, orderRows(300));
    await makeTable(staging, a.token, 'notes', NOTES_SCHEMA, [{ body: 'hello' }]);
    const b = await prod.createUser();
    to = { TABLEPORT_URL: prod.baseUrl, TABLEPORT_TOKEN: b.token };
  });
  after(async () => {
    await Promise.all([staging?.close(), prod?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('data export FILE, then data import -f FILE --wait into another server, then getstatus import', async () => {
    const file = join(dir, 'backup.json');
    const exp = await tableport(['data', 'export', file], from);
    assert.equal(exp.code, 0, exp.stderr);
    assert.match(exp.stderr, /Saved the bundle to .*backup\.json \(\d+ bytes, 301 rows\)/);
    const b = JSON.parse(await readFile(file, 'utf8'));
    assert.deepEqual(Object.keys(b.tables), ['orders', 'notes']);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.part')),
      [],
    );

    const schemas = join(dir, 'schemas.json');
    const only = await tableport(['data', 'export', schemas, '--tables', 'notes', '--schema-only', '--json'], from);
    assert.equal(only.code, 0, only.stderr);
    assert.deepEqual(JSON.parse(await readFile(schemas, 'utf8')).tables, { notes: { schema: NOTES_SCHEMA, rows: [] } });

    const imp = await tableport(['data', 'import', '-f', file, '--mode', 'reset', '--wait'], to);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /Bundle import .*: succeeded/);
    assert.match(imp.stdout, /orders\s+ok/);
    const status = await tableport(['getstatus', 'import', '--json'], to);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout).tables, { orders: '', notes: '' });
    assert.deepEqual(await workspace(prod, to.TABLEPORT_TOKEN ?? ''), await workspace(staging, from.TABLEPORT_TOKEN ?? ''));
  });

  test('a failing import exits 1 and shows which table failed and why', async () => {
    const bad = join(dir, 'bad.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      bad,
      JSON.stringify({ format: 'tableport.bundle', version: 1, tables: { notes: { schema: NOTES_SCHEMA, rows: [{ body: 5 }] } } }),
    );
    const u = await prod.createUser();
    const run = await tableport(['data', 'import', '-f', bad, '--wait'], { TABLEPORT_URL: prod.baseUrl, TABLEPORT_TOKEN: u.token });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /notes\s+1 row is not valid: line 1, body: /);
    assert.match(run.stderr, /Import job .* failed/);
  });

  test('migrate promotes chosen tables into another deployment, renamed, streamed without a local file', async () => {
    const u = await prod.createUser();
    await makeTable(prod, u.token, 'keep', NOTES_SCHEMA, [{ body: 'prod only' }]);
    const run = await tableport(
      ['migrate', '--to', prod.baseUrl, '--to-token', u.token, '--tables', 'orders', '--rename', 'orders=orders_live'],
      from,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /transfer: \d+ bytes streamed/);
    assert.match(run.stdout, /orders_live\s+ok/);
    const got = await workspace(prod, u.token);
    assert.deepEqual(Object.keys(got).sort(), ['keep', 'orders_live'], 'replace keeps the other tables');
    const want = await workspace(staging, from.TABLEPORT_TOKEN ?? '');
    assert.deepEqual(got.orders_live, want.orders);
  });

  test('migrate without --to-token is bad usage (exit 2)', async () => {
    const run = await tableport(['migrate', '--to', prod.baseUrl], from);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--to-token/);
  });
});
