import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createQueueBackend } from '../../../src/queue/index.js';
import { JobName, QueueName } from '../../../src/jobs/job-names.js';
import { scheduleSchedulerId } from '../../../src/jobs/queues.js';
import { createLogger } from '../../../src/logger.js';
import type { QueueHandle } from '../../../src/queue/index.js';
import type { Job } from '../../../src/types/api.js';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitFor } from '../../helpers/wait.js';

const SCHEMA = { fields: [{ name: 'n', type: 'integer' }] };

/** Runs of a schedule, once there are `count` of them (a poll of the API, as a user would). */
async function runsOf(server: TestServer, token: string, id: string, count: number): Promise<Job[]> {
  return await waitFor(`${count} runs of schedule ${id}`, async () => {
    const res = await client(server, token).get(`/oserve/v1/schedules/${id}/runs`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.objects.length >= count && (res.body.objects as Job[]);
  });
}

describe('schedules: the API, the scheduler registration and the firing', () => {
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

  /** What the scheduler enqueues when it fires: the handler runs in the test server's worker. */
  let fired = 0;
  const fire = (scheduleId: string, due = server.clock.now()) =>
    maintenance.add(JobName.RunSchedule, { scheduleId, due }, { jobId: `test-fire-${scheduleId}-${due}-${++fired}` });

  test('create, list, show, patch, pause, resume and delete; another user gets 404', async () => {
    const { token } = await server.createUser();
    const other = await server.createUser();
    const c = client(server, token);
    const tableId = await createTable(server, token, 'scheduled', SCHEMA);
    const made = await c.post('/oserve/v1/schedules').send({ table_id: tableId, every: '1h', export: { file_type: 'csv' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.id as string;
    assert.equal(made.body.every, '1h');
    assert.equal(made.body.mode, 'all');
    assert.equal(made.body.paused, false);

    const schedulers = await maintenance.getJobSchedulers(0, -1);
    const mine = schedulers.find((s) => s.key === scheduleSchedulerId(id));
    assert.equal(mine?.every, 3_600_000, 'a BullMQ job scheduler every hour');

    assert.equal((await c.get('/oserve/v1/schedules')).body.objects.length, 1);
    assert.equal((await c.get(`/oserve/v1/schedules/${id}`)).body.id, id);
    assert.equal((await client(server, other.token).get(`/oserve/v1/schedules/${id}`)).status, 404);
    assert.equal((await client(server, other.token).delete(`/oserve/v1/schedules/${id}`)).status, 404);

    const patched = await c.patch(`/oserve/v1/schedules/${id}`).send({ cron: '0 3 * * *', timezone: 'Asia/Shanghai' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.cron, '0 3 * * *');
    assert.equal(patched.body.every, null);
    const cron = (await maintenance.getJobSchedulers(0, -1)).find((s) => s.key === scheduleSchedulerId(id));
    assert.equal(cron?.pattern, '0 3 * * *');
    assert.equal(cron?.tz, 'Asia/Shanghai');
    // 03:00 in Shanghai is 19:00 UTC.
    const shownNext = (await c.get(`/oserve/v1/schedules/${id}`)).body.next_run_at as number;
    assert.equal(new Date(shownNext * 1000).getUTCHours(), 19);
    assert.equal(new Date(shownNext * 1000).getUTCMinutes(), 0);

    const paused = await c.post(`/oserve/v1/schedules/${id}/pause`);
    assert.equal(paused.body.paused, true);
    assert.equal(paused.body.next_run_at, null);
    assert.equal(
      (await maintenance.getJobSchedulers(0, -1)).some((s) => s.key === scheduleSchedulerId(id)),
      false,
    );
    assert.equal((await c.post(`/oserve/v1/schedules/${id}/resume`)).body.paused, false);
    assert.equal(
      (await maintenance.getJobSchedulers(0, -1)).some((s) => s.key === scheduleSchedulerId(id)),
      true,
    );

    assert.equal((await c.delete(`/oserve/v1/schedules/${id}`)).status, 204);
    assert.equal((await c.get(`/oserve/v1/schedules/${id}`)).status, 404);
    assert.equal(
      (await maintenance.getJobSchedulers(0, -1)).some((s) => s.key === scheduleSchedulerId(id)),
      false,
    );
  });

  test("a destination's connection is sealed: never shown, not stored in clear", async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    const tableId = await createTable(server, token, 'sealed', SCHEMA);
    const made = await c.post('/oserve/v1/schedules').send({
      table_id: tableId,
      every: '1d',
      export: { file_type: 'csv', destination: 's3://bucket/prefix/', connection: { region: 'us-east-1', secret_key: 'TOP-SECRET-KEY' } },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.export.connection, '(sealed)');
    assert.doesNotMatch(JSON.stringify((await c.get(`/oserve/v1/schedules/${made.body.id}`)).body), /TOP-SECRET/);
    const stored = await server.db.query('SELECT export::text AS e FROM tableport.schedules WHERE id = $1', [made.body.id]);
    assert.doesNotMatch(String(stored.rows[0]?.e), /TOP-SECRET/);
  });

  test('bad requests name the parameter', async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    const tableId = await createTable(server, token, 'refused', SCHEMA);
    const cases: Array<[object, string]> = [
      [{ table_id: tableId, export: { file_type: 'csv' } }, 'every'],
      [{ table_id: tableId, every: '10s', export: { file_type: 'csv' } }, 'every'],
      [{ table_id: tableId, every: '1h', cron: '0 3 * * *', export: { file_type: 'csv' } }, 'every'],
      [{ table_id: tableId, cron: 'not a cron', export: { file_type: 'csv' } }, 'cron'],
      [{ table_id: tableId, cron: '0 3 * * *', timezone: 'Mars/Base', export: { file_type: 'csv' } }, 'timezone'],
      [{ table_id: tableId, every: '1h', export: { file_type: 'docx' } }, 'export.file_type'],
      [{ tables: ['refused'], every: '1h', mode: 'changes' }, 'mode'],
    ];
    for (const [body, param] of cases) {
      const res = await c.post('/oserve/v1/schedules').send(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error_code, 'invalid_parameter');
      assert.match(res.body.error_msg, new RegExp(param.replace('.', '\\.')), JSON.stringify(res.body));
    }
    assert.equal((await c.post('/oserve/v1/schedules').send({ table_id: 999999, every: '1h', export: { file_type: 'csv' } })).status, 404);

    // A refused change leaves the schedule as it was.
    const made = await c.post('/oserve/v1/schedules').send({ table_id: tableId, cron: '0 3 * * *', export: { file_type: 'csv' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    for (const [body, param] of [
      [{ cron: '61 25 * * *' }, 'cron'],
      [{ timezone: 'Mars/Base' }, 'timezone'],
      [{ every: '1h', cron: '0 4 * * *' }, 'every'],
    ] as const) {
      const res = await c.patch(`/oserve/v1/schedules/${made.body.id}`).send(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.error_msg, new RegExp(param), JSON.stringify(res.body));
      const now = (await c.get(`/oserve/v1/schedules/${made.body.id}`)).body;
      assert.deepEqual([now.cron, now.every, now.timezone], ['0 3 * * *', null, 'UTC'], JSON.stringify(body));
    }
  });

  test('a firing births an ordinary job; a second firing for the same slot does not; one inside the minute waits for it', async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    const tableId = await createTable(server, token, 'fired', SCHEMA);
    await c.post(`/oserve/v1/table/${tableId}/record/`).send([{ n: 1 }, { n: 2 }]);
    const id = (await c.post('/oserve/v1/schedules').send({ table_id: tableId, every: '1h', export: { file_type: 'json' } })).body.id;
    const due = server.clock.now();
    await fire(id, due);
    const [first] = await runsOf(server, token, id, 1);
    const done = await waitForJob(server, token, first?.id ?? '');
    assert.equal(done.status, 'succeeded');
    assert.equal(done.rows, 2);
    assert.equal(done.type, 'export');
    assert.equal(done.schedule_id, id, 'a run names its schedule');
    // An ordinary job: its user gets its mail.
    const mail = await server.smtp.waitForMessage((m) => m.text.includes(done.id) || (m.html ?? '').includes(done.id));
    assert.match(mail.text, /2/);

    // The same slot again (BullMQ's overdue job and a catch-up after a restart): nothing more.
    await fire(id, due);
    // The next slot, still inside the table's minute: the firing waits (BullMQ's delayed set) instead of failing.
    const next = server.clock.now();
    const waiting = await fire(id, next);
    await waitFor('the firing to wait for the minute (delayed)', async () => (await waiting.getState()) === 'delayed');
    const shown = await c.get(`/oserve/v1/schedules/${id}`);
    assert.equal(shown.body.last_error, null);
    assert.equal((await runsOf(server, token, id, 1)).length, 1);
    // The minute over, the delayed firing runs again (BullMQ's delay is real time: the test re-fires it).
    server.clock.advance(61_000);
    await fire(id, next);
    const runs = await runsOf(server, token, id, 2);
    assert.equal(runs.length, 2, 'one run per slot');
    assert.equal((await waitForJob(server, token, runs[0]?.id ?? '')).status, 'succeeded');
  });

  test("BullMQ's scheduler itself fires the handler on this backend (a short interval set on the queue directly)", async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    const tableId = await createTable(server, token, 'ticking', SCHEMA);
    const id = (await c.post('/oserve/v1/schedules').send({ table_id: tableId, every: '1h', export: { file_type: 'csv' } })).body.id;
    // The API refuses less than a minute; the queue takes any interval: the same scheduler, every 300 ms.
    await maintenance.upsertJobScheduler(scheduleSchedulerId(id), { every: 300 }, { name: JobName.RunSchedule, data: { scheduleId: id } });
    const [run] = await runsOf(server, token, id, 1);
    assert.equal((await waitForJob(server, token, run?.id ?? '')).status, 'succeeded');
    // Later firings fall inside the table's minute: they wait, none fails, no second run is born.
    assert.equal((await c.get(`/oserve/v1/schedules/${id}`)).body.last_error, null);
    await c.post(`/oserve/v1/schedules/${id}/pause`);
    assert.equal((await c.get(`/oserve/v1/schedules/${id}/runs`)).body.objects.length, 1);
  });

  for (const timing of [{ every: '1h' }, { cron: '0 * * * *' }] as const)
    test(`a slot missed while the service was down runs once at start-up, not once per slot (${JSON.stringify(timing)})`, async () => {
      const { token } = await server.createUser();
      const c = client(server, token);
      const tableId = await createTable(server, token, `missed_${Object.keys(timing)[0]}`, SCHEMA);
      const id = (await c.post('/oserve/v1/schedules').send({ table_id: tableId, ...timing, export: { file_type: 'csv' } })).body.id;
      // Down for five hours, and the queue lost its scheduler (Redis restarted without persistence).
      await server.db.query(
        `UPDATE tableport.schedules SET last_fired_at = now() - interval '5 hours', created_at = now() - interval '6 hours' WHERE id = $1`,
        [id],
      );
      await maintenance.removeJobScheduler(scheduleSchedulerId(id));
      // A worker starts: it makes the scheduler again and fires the missed slot once.
      const peer = await server.startPeer(['worker']);
      try {
        const [run] = await runsOf(server, token, id, 1);
        assert.equal((await waitForJob(server, token, run?.id ?? '')).status, 'succeeded');
        // Another worker starting finds the scheduler there: nothing more fires.
        const second = await server.startPeer(['worker']);
        await second.close();
        await waitFor('the maintenance queue to be idle', async () => {
          const counts = await maintenance.getJobCounts('wait', 'active');
          return (counts.wait ?? 0) + (counts.active ?? 0) === 0;
        });
        assert.equal((await c.get(`/oserve/v1/schedules/${id}/runs`)).body.objects.length, 1, 'one run for five missed slots');
        assert.ok((await maintenance.getJobSchedulers(0, -1)).some((s) => s.key === scheduleSchedulerId(id)));
      } finally {
        await peer.close();
      }
    });
});
