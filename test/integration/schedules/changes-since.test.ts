import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { SchedulesRepository } from '../../../src/db/repositories/schedules.repository.js';
import { client, createTable, download, waitForJob } from '../../helpers/api.js';
import { defined } from '../../helpers/defined.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const SCHEMA = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'n', type: 'integer' },
  ],
};

describe('export changes_since: rows created or updated since, and the ids deleted since', () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  test('a CSV and a JSON export hold the changed rows (_deleted false) and the deleted ids (_deleted true)', async () => {
    const c = client(server, token);
    const tableId = await createTable(server, token, 'changing', SCHEMA);
    const rec = `/oserve/v1/table/${tableId}/record/`;
    // The first rows were written a while ago (by the service's clock); deletions are dated by the
    // database's clock, which the test cannot move: "since" is now on both.
    server.clock.advance(-100_000);
    assert.equal(
      (
        await c.post(rec).send([
          { id: 'a', title: 'old a', n: 1 },
          { id: 'b', title: 'old b', n: 2 },
          { id: 'c', title: 'kept', n: 3 },
        ])
      ).status,
      201,
    );
    server.clock.advance(100_000);
    const since = Math.floor(server.clock.now() / 1000);
    const put = await c.put(`${rec}b/`).send({ title: 'new b' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal((await c.post(rec).send({ id: 'd', title: 'new d', n: 4 })).status, 201);
    assert.equal((await c.delete(`${rec}a/`)).status, 204);

    const csvJob = await c.post(`/oserve/v1/table/${tableId}/export/`).send({ file_type: 'csv', mode: 'all', changes_since: since });
    assert.equal(csvJob.status, 201, JSON.stringify(csvJob.body));
    const done = await waitForJob(server, token, csvJob.body.job_id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.errors));
    assert.equal(done.rows, 3);
    const csv = parse((await download(defined(done.file_url, 'file_url'))).body, { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(
      csv.map((r) => [r.id, r.title, r._deleted]),
      [
        ['b', 'new b', 'false'],
        ['d', 'new d', 'false'],
        ['a', '', 'true'],
      ],
    );

    server.clock.advance(61_000);
    const jsonJob = await c.post(`/oserve/v1/table/${tableId}/export/`).send({ file_type: 'json', mode: 'all', changes_since: since });
    const jsonDone = await waitForJob(server, token, jsonJob.body.job_id);
    assert.equal(jsonDone.status, 'succeeded', JSON.stringify(jsonDone.errors));
    const rows = JSON.parse((await download(defined(jsonDone.file_url, 'file_url'))).body) as Array<Record<string, unknown>>;
    assert.deepEqual(
      rows.map((r) => [r.id, r.n, r._deleted]),
      [
        ['b', 2, false],
        ['d', 4, false],
        ['a', null, true],
      ],
    );
  });

  test('every export format carries the _deleted column', async () => {
    const c = client(server, token);
    const tableId = await createTable(server, token, 'formats', SCHEMA);
    const rec = `/oserve/v1/table/${tableId}/record/`;
    await c.post(rec).send([
      { id: 'k', title: 'kept', n: 1 },
      { id: 'g', title: 'gone', n: 2 },
    ]);
    assert.equal((await c.delete(`${rec}g/`)).status, 204);
    for (const fileType of ['ndjson', 'sql', 'parquet', 'xlsx']) {
      server.clock.advance(61_000);
      const res = await c.post(`/oserve/v1/table/${tableId}/export/`).send({ file_type: fileType, mode: 'all', changes_since: 0 });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const done = await waitForJob(server, token, res.body.job_id);
      assert.equal(done.status, 'succeeded', `${fileType}: ${JSON.stringify(done.errors)}`);
      assert.equal(done.rows, 2, fileType);
      if (fileType === 'ndjson') {
        const lines = (await download(defined(done.file_url, 'file_url'))).body
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        assert.deepEqual(
          lines.map((l) => [l.id, l._deleted]),
          [
            ['k', false],
            ['g', true],
          ],
        );
      }
      if (fileType === 'sql') assert.match((await download(defined(done.file_url, 'file_url'))).body, /_deleted/);
    }
  });

  test('tombstones are pruned once old and read by every changes schedule of their table, and with their table', async () => {
    const c = client(server, token);
    const tableId = await createTable(server, token, 'pruned', SCHEMA);
    const rec = `/oserve/v1/table/${tableId}/record/`;
    await c.post(rec).send([{ id: 'x' }, { id: 'y' }]);
    const made = await c
      .post('/oserve/v1/schedules')
      .send({ table_id: tableId, every: '1h', mode: 'changes', export: { file_type: 'csv' } });
    const before = (await server.db.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s')).rows[0]?.s;
    await server.db.query('UPDATE tableport.schedules SET watermark = $2 WHERE id = $1', [made.body.id, before]);
    assert.equal((await c.delete(`${rec}x/`)).status, 204);
    const repo = new SchedulesRepository(server.db);
    const kept = async () =>
      Number((await server.db.query('SELECT count(*) AS n FROM tableport.tombstones WHERE table_id = $1', [tableId])).rows[0]?.n);
    const future = Math.floor(Date.now() / 1000) + 3600;
    assert.equal(await kept(), 1);
    await repo.pruneTombstones(future);
    assert.equal(await kept(), 1, 'the schedule has not read the deletion yet');
    const after = (await server.db.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s')).rows[0]?.s;
    await server.db.query('UPDATE tableport.schedules SET watermark = $2 WHERE id = $1', [made.body.id, after]);
    await repo.pruneTombstones(Math.floor(Date.now() / 1000) - 3600);
    assert.equal(await kept(), 1, 'not old enough yet');
    await repo.pruneTombstones(future);
    assert.equal(await kept(), 0, 'old and read: gone');
    assert.equal((await c.delete(`${rec}y/`)).status, 204);
    assert.equal((await c.delete(`/oserve/v1/table/${tableId}/`)).status < 300, true);
    await repo.pruneTombstones(0);
    assert.equal(await kept(), 0, "a dropped table's tombstones go");
  });
});
