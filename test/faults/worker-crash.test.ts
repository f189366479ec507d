/**
 * Workers dying (kill -9), pausing past their lock (SIGSTOP) and crashing twice: every job ends
 * once, with every row written once and one mail.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe } from 'node:test';
import { startFaultEnv, waitFor, type FaultEnv } from './helpers/fault-env.js';
import { faultTest } from './helpers/fault-tally.js';
import { FIELDS, bigCsv, fillTable, rowCounts, uploadImport, waitForCopy } from './helpers/import-data.js';
import { freePort } from '../helpers/ports.js';

const ROWS = 200_000;

describe('faults: workers killed or paused', () => {
  let fe: FaultEnv;
  let token: string;
  let csv: Buffer;
  before(async () => {
    fe = await startFaultEnv({ redisPort: await freePort(), pgPort: await freePort() });
    ({ token } = await fe.createUser());
    csv = bigCsv(ROWS);
  });
  afterEach(() => fe?.stopWorkers());
  after(() => fe?.close());

  async function endsOnce(tableId: number, jobId: string, rows: number): Promise<void> {
    const job = await fe.waitForJob(token, jobId);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, rows);
    if (job.type === 'import') assert.deepEqual(await rowCounts(fe, tableId), { n: rows, d: rows }, 'every row once');
    await waitFor('the mail', async () => fe.mailsFor(jobId) > 0);
    // A late duplicate would come with the next mail attempt; give it that long.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(fe.mailsFor(jobId), 1, 'exactly one mail');
  }

  faultTest('kill -9 of the worker mid-import, then a new worker: the import ends once', async () => {
    const t = await fe.createTable(token, 'killed_import', FIELDS);
    const jobId = await uploadImport(fe, token, t, csv);
    const w1 = await fe.startWorker();
    await waitForCopy(fe, t, 'in');
    await w1.kill('SIGKILL');
    const w2 = await fe.startWorker();
    await endsOnce(t, jobId, ROWS);
    assert.deepEqual(await readdir(join(fe.storageDir, 'imports')).catch(() => []), [], 'the upload folder is gone');
    await w2.kill('SIGTERM');
  });

  faultTest('kill -9 of the worker mid-export, then a new worker: one whole file, no partial left', async () => {
    const t = await fe.createTable(token, 'killed_export', FIELDS);
    await fillTable(fe, t, 400_000);
    const res = await fe.request(token, 'POST', `/oserve/v1/table/${t}/export/`, { file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201);
    const jobId = res.body.job_id as string;
    const w1 = await fe.startWorker();
    // Mid-export: the partial file (a temporary name beside the target, renamed when whole) is being written.
    await waitFor('a partial export file', async () =>
      (await readdir(join(fe.storageDir, 'exports', jobId))).some((f) => f.startsWith('.') && f.endsWith('.tmp')),
    );
    await w1.kill('SIGKILL');
    const w2 = await fe.startWorker();
    await endsOnce(t, jobId, 400_000);
    const files = await readdir(join(fe.storageDir, 'exports', jobId));
    assert.equal(files.length, 1, `one file and no partial one: ${files.join(', ')}`);
    await w2.kill('SIGTERM');
  });

  faultTest('two crashes of one job with JOB_ATTEMPTS=3 do not fail it (F)', async () => {
    const t = await fe.createTable(token, 'crashed_twice', FIELDS);
    const jobId = await uploadImport(fe, token, t, csv);
    for (let i = 0; i < 2; i++) {
      const w = await fe.startWorker();
      await waitForCopy(fe, t, 'in');
      await w.kill('SIGKILL');
    }
    const w3 = await fe.startWorker();
    await endsOnce(t, jobId, ROWS);
    await w3.kill('SIGTERM');
  });

  faultTest('a worker paused past its lock is fenced off by the next one, which runs the job; resumed, it writes nothing (A)', async () => {
    const t = await fe.createTable(token, 'paused', FIELDS);
    const jobId = await uploadImport(fe, token, t, csv);
    // A heartbeat older than 6 s means the attempt stopped living.
    const w1 = await fe.startWorker({ JOB_STALE_SECONDS: '6' });
    await waitForCopy(fe, t, 'in');
    w1.child.kill('SIGSTOP');
    const w2 = await fe.startWorker({ JOB_STALE_SECONDS: '6' });
    // While the first worker is still paused: the second ends its session (its COPY rolls back) and runs the job.
    await endsOnce(t, jobId, ROWS);
    assert.equal(w1.child.signalCode, null, 'the first worker is still there, paused');
    // Resumed, the first worker finds its session gone: it writes nothing more and mails nothing.
    w1.child.kill('SIGCONT');
    await w1.kill('SIGTERM');
    assert.deepEqual(await rowCounts(fe, t), { n: ROWS, d: ROWS }, 'every row once');
    assert.equal(fe.mailsFor(jobId), 1, 'exactly one mail');
    await w2.kill('SIGTERM');
  });
});
