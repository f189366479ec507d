/**
 * Redis restarted without persistence while a job runs and others wait (fault D): the running job
 * ends once, the accepted jobs Redis forgot are found by the sweep, and the sweep's own schedule
 * is re-created when the worker reconnects.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, afterEach, before, describe } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_IN_POSTGRES, startFaultEnv, waitFor, type FaultEnv } from './helpers/fault-env.js';
import { faultTest } from './helpers/fault-tally.js';
import { FIELDS, bigCsv, fillTable, rowCounts, uploadImport, waitForCopy } from './helpers/import-data.js';
import { freePort } from '../helpers/ports.js';

const ROWS = 200_000;

const skip = QUEUE_IN_POSTGRES ? 'jobs queue in PostgreSQL in this run: no Redis to lose' : false;

describe('faults: Redis lost', { skip }, () => {
  let fe: FaultEnv;
  let token: string;
  before(async () => {
    fe = await startFaultEnv({ redisPort: await freePort(), pgPort: await freePort(), env: { WORKER_CONCURRENCY: '1' } });
    ({ token } = await fe.createUser());
  });
  afterEach(() => fe?.stopWorkers());
  after(() => fe?.close());

  faultTest('Redis restarted empty mid-import with accepted jobs waiting: every job ends once, one mail each (D)', async () => {
    const t = await fe.createTable(token, 'during_restart', FIELDS);
    const importId = await uploadImport(fe, token, t, bigCsv(ROWS));
    const worker = await fe.startWorker();
    await waitForCopy(fe, t, 'in');
    // Accepted while the only worker slot is busy: they wait in Redis.
    const waiting: Array<{ table: number; job: string }> = [];
    for (let i = 0; i < 3; i++) {
      const table = await fe.createTable(token, `waiting_${i}`, FIELDS);
      await fillTable(fe, table, 10);
      const res = await fe.request(token, 'POST', `/oserve/v1/table/${table}/export/`, { file_type: 'csv', mode: 'all' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      waiting.push({ table, job: res.body.job_id as string });
    }
    await fe.redis.restart();

    const job = await fe.waitForJob(token, importId);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(await rowCounts(fe, t), { n: ROWS, d: ROWS });
    for (const w of waiting) {
      const j = await fe.waitForJob(token, w.job);
      assert.equal(j.status, 'succeeded', JSON.stringify(j.errors));
      assert.equal(j.rows, 10);
    }
    for (const id of [importId, ...waiting.map((w) => w.job)]) await waitFor(`the mail of ${id}`, async () => fe.mailsFor(id) > 0);
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of [importId, ...waiting.map((w) => w.job)]) assert.equal(fe.mailsFor(id), 1, `one mail for ${id}`);

    // The repeatable schedules are back in the new Redis.
    const redis = new Redis(fe.redis.url, { maxRetriesPerRequest: null });
    const q = new Queue('maintenance', { connection: redis, prefix: 'faults' });
    try {
      const names = (await q.getJobSchedulers()).map((s) => s.key).sort();
      assert.deepEqual(names, ['cleanup-exports', 'sweep-jobs']);
    } finally {
      await q.close();
      redis.disconnect();
    }
    assert.ok(worker.alive(), 'the worker survived');
    await worker.kill('SIGTERM');
  });

  faultTest('SIGTERM while Redis is down: an idle worker exits within seconds, not after SHUTDOWN_TIMEOUT_MS', async () => {
    const worker = await fe.startWorker({ SHUTDOWN_TIMEOUT_MS: '30000' });
    await fe.redis.kill();
    try {
      const exited = once(worker.child, 'exit');
      worker.child.kill('SIGTERM');
      // With nothing running there is nothing to hand back: only BullMQ's goodbyes to a Redis that is not there.
      await waitFor('the worker to exit', async () => !worker.alive(), 10_000);
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'a clean exit');
    } finally {
      await fe.redis.start();
    }
  });
});
