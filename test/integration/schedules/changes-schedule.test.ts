import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JobName, QueueName } from '../../../src/jobs/job-names.js';
import { createLogger } from '../../../src/logger.js';
import { createQueueBackend, type QueueHandle } from '../../../src/queue/index.js';
import type { Job } from '../../../src/types/api.js';
import { client, createTable, download, waitForJob } from '../../helpers/api.js';
import { defined } from '../../helpers/defined.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitFor } from '../../helpers/wait.js';

const SCHEMA = { fields: [{ name: 'n', type: 'integer' }] };
type Row = { id: string; n: number | null; _deleted: boolean };

describe('a changes schedule: each run takes exactly what the previous one did not see', () => {
  let server: TestServer;
  let maintenance: QueueHandle;
  let closeBackend: () => Promise<void>;
  before(async () => {
    server = await startTestServer();
    const backend = await createQueueBackend(server.config, 'api', createLogger('silent'), server.clock);
    maintenance = backend.queue(QueueName.Maintenance, {});
    closeBackend = () => backend.close();
  });
  after(async () => {
    await closeBackend();
    await server.close();
  });

  test('no gap and no overlap while rows are written, updated and deleted during the runs', async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    const tableId = await createTable(server, token, 'feed', SCHEMA);
    const rec = `/oserve/v1/table/${tableId}/record/`;
    assert.equal((await c.post(rec).send([1, 2, 3, 4, 5].map((n) => ({ id: `first-${n}`, n })))).status, 201);
    const made = await c
      .post('/oserve/v1/schedules')
      .send({ table_id: tableId, every: '1h', mode: 'changes', export: { file_type: 'json' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.id as string;

    // A transaction that wrote before the first run and commits after it, with an old updated_at:
    // a watermark of time would miss its row; the snapshot's does not.
    const late = await server.db.connect();
    await late.query('BEGIN');
    await late.query(`INSERT INTO tableport_data.t_${tableId} (id, created_at, updated_at, n) VALUES ('late', 1, 1, 99)`);
    // And a row written in a subtransaction of it: a snapshot does not list subtransactions, so a
    // test of visibility against the previous snapshot alone would take it for an old row.
    await late.query('SAVEPOINT sub');
    await late.query(`INSERT INTO tableport_data.t_${tableId} (id, created_at, updated_at, n) VALUES ('late-sub', 1, 1, 98)`);
    await late.query('RELEASE SAVEPOINT sub');

    // Writers all along: inserts, and deletes of rows written earlier, each its own request.
    let writing = true;
    let w = 0;
    const writer = (async () => {
      while (writing) {
        w++;
        const res = await c.post(rec).send({ id: `w-${w}`, n: w });
        assert.equal(res.status, 201);
        if (w % 4 === 0) assert.equal((await c.delete(`${rec}w-${w - 2}/`)).status, 204);
      }
    })();

    let fired = 0;
    const runs: Row[][] = [];
    const run = async () => {
      const due = server.clock.now();
      await maintenance.add(JobName.RunSchedule, { scheduleId: id, due }, { jobId: `changes-${id}-${++fired}` });
      const job = await waitFor(`run ${fired} of schedule ${id}`, async () => {
        const list = (await c.get(`/oserve/v1/schedules/${id}/runs`)).body.objects as Job[];
        return list.length === fired && list[0];
      });
      const done = await waitForJob(server, token, defined(job, `run ${fired}`).id);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.errors));
      runs.push(JSON.parse((await download(defined(done.file_url, 'file_url'))).body) as Row[]);
      server.clock.advance(61_000);
    };

    await run();
    await late.query('COMMIT');
    late.release();
    // Changed between runs: an update of a row the first run took, and a delete of another.
    assert.equal((await c.put(`${rec}first-1/`).send({ n: 100 })).status, 200);
    assert.equal((await c.delete(`${rec}first-2/`)).status, 204);
    await run();
    await run();
    writing = false;
    await writer;
    await run();

    const ids = (r: Row[]) => r.filter((x) => !x._deleted).map((x) => x.id);
    assert.equal(ids(runs[0] ?? []).includes('late'), false, 'the first run cannot see an uncommitted row');
    assert.equal(ids(runs[1] ?? []).includes('late'), true, 'the next run takes it once committed, whatever its updated_at');
    assert.equal(ids(runs[1] ?? []).includes('late-sub'), true, 'a row of a subtransaction too');
    assert.deepEqual(
      runs[1]?.filter((x) => x.id.startsWith('first-')).map((x) => [x.id, x.n, x._deleted]),
      [
        ['first-1', 100, false],
        ['first-2', null, true],
      ],
    );

    // No overlap: a row written once is in exactly one run (only first-1 was written twice).
    const seen = new Map<string, number>();
    for (const r of runs) for (const i of ids(r)) seen.set(i, (seen.get(i) ?? 0) + 1);
    const twice = [...seen].filter(([i, k]) => k > 1 && i !== 'first-1');
    assert.deepEqual(twice, [], 'rows exported by two runs');

    // No gap: applying the runs in order (rows upserted, ids deleted) gives the table as it is.
    const replica = new Map<string, number | null>();
    for (const r of runs)
      for (const x of r) {
        if (x._deleted) replica.delete(x.id);
        else replica.set(x.id, x.n);
      }
    const { rows } = await server.db.query<{ id: string; n: string }>(`SELECT id, n FROM tableport_data.t_${tableId} ORDER BY id`);
    assert.ok(rows.length > 10, `the writer wrote during the runs (${w} rows)`);
    assert.deepEqual(
      [...replica].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      rows.map((r) => [r.id, Number(r.n)]),
    );
  });

  test("a bundle import that replaces the table: the next run deletes the old rows' ids", async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    const tableId = await createTable(server, token, 'replaced', SCHEMA);
    await c.post(`/oserve/v1/table/${tableId}/record/`).send([
      { id: 'x', n: 1 },
      { id: 'y', n: 2 },
    ]);
    const id = (
      await c.post('/oserve/v1/schedules').send({ table_id: tableId, every: '1h', mode: 'changes', export: { file_type: 'json' } })
    ).body.id as string;
    let fired = 0;
    const run = async (): Promise<Row[]> => {
      await maintenance.add(JobName.RunSchedule, { scheduleId: id, due: server.clock.now() }, { jobId: `replaced-${id}-${++fired}` });
      const job = await waitFor(`run ${fired} of schedule ${id}`, async () => {
        const list = (await c.get(`/oserve/v1/schedules/${id}/runs`)).body.objects as Job[];
        return list.length === fired && list[0];
      });
      const done = await waitForJob(server, token, defined(job, `run ${fired}`).id);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.errors));
      server.clock.advance(61_000);
      return JSON.parse((await download(defined(done.file_url, 'file_url'))).body) as Row[];
    };
    assert.deepEqual(
      (await run()).map((r) => r.id),
      ['x', 'y'],
    );
    const bundle = {
      format: 'tableport.bundle',
      version: 1,
      exported_at: 0,
      tables: { replaced: { schema: SCHEMA, rows: [{ id: 'z', n: 3 }] } },
    };
    const imp = await c.post('/oserve/v1/data/import/?mode=replace').send({ content: JSON.stringify(bundle) });
    assert.equal(imp.status, 201, JSON.stringify(imp.body));
    assert.equal((await waitForJob(server, token, imp.body.job_id)).status, 'succeeded');
    const second = await run();
    assert.deepEqual(
      second.map((r) => [r.id, r._deleted]),
      [
        ['z', false],
        ['x', true],
        ['y', true],
      ],
    );
  });
});
