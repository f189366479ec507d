/**
 * PostgreSQL stopped mid-job and started again (faults B and C): the worker stays alive, and the
 * job recovers once the database is back (or fails cleanly), with nothing half-written and one mail.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe } from 'node:test';
import { startFaultEnv, sleep, waitFor, type FaultEnv } from './helpers/fault-env.js';
import { faultTest } from './helpers/fault-tally.js';
import { FIELDS, bigCsv, fillTable, rowCounts, uploadImport, waitForCopy } from './helpers/import-data.js';
import { freePort } from '../helpers/ports.js';

const ROWS = 200_000;

describe('faults: PostgreSQL lost', () => {
  let fe: FaultEnv;
  let token: string;
  before(async () => {
    fe = await startFaultEnv({ redisPort: await freePort(), pgPort: await freePort() });
    ({ token } = await fe.createUser());
  });
  afterEach(() => fe?.stopWorkers());
  after(() => fe?.close());

  async function endsCleanly(jobId: string, expectRows: number): Promise<string> {
    const job = await fe.waitForJob(token, jobId, 120_000);
    if (job.status === 'succeeded') assert.equal(job.rows, expectRows);
    await waitFor('the mail', async () => fe.mailsFor(jobId) > 0);
    await sleep(1500);
    assert.equal(fe.mailsFor(jobId), 1, 'one mail');
    return job.status;
  }

  faultTest('PostgreSQL restarted mid-import: the worker lives, the rows are written once or not at all (B, C)', async () => {
    const t = await fe.createTable(token, 'pg_import', FIELDS);
    const jobId = await uploadImport(fe, token, t, bigCsv(ROWS));
    const worker = await fe.startWorker();
    await waitForCopy(fe, t, 'in');
    await fe.pg.stop();
    await sleep(3000);
    assert.ok(worker.alive(), 'the worker survived the lost connections');
    await fe.pg.start();
    const status = await endsCleanly(jobId, ROWS);
    const counts = await rowCounts(fe, t);
    assert.deepEqual(counts, status === 'succeeded' ? { n: ROWS, d: ROWS } : { n: 0, d: 0 }, 'nothing half-written');
    assert.equal(status, 'succeeded', 'the import was retried once the database was back');
    assert.ok(worker.alive());
    await worker.kill('SIGTERM');
  });

  faultTest('PostgreSQL restarted mid-export: the worker lives, one whole file, no partial (B, C)', async () => {
    const t = await fe.createTable(token, 'pg_export', FIELDS);
    await fillTable(fe, t, 400_000);
    const res = await fe.request(token, 'POST', `/oserve/v1/table/${t}/export/`, { file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201);
    const jobId = res.body.job_id as string;
    const worker = await fe.startWorker();
    await waitForCopy(fe, t, 'out');
    await fe.pg.stop();
    await sleep(3000);
    assert.ok(worker.alive(), 'the worker survived the lost connections');
    await fe.pg.start();
    const status = await endsCleanly(jobId, 400_000);
    assert.equal(status, 'succeeded', 'the export was retried once the database was back');
    const files = await readdir(join(fe.storageDir, 'exports', jobId));
    assert.equal(files.length, 1, `one file and no partial one: ${files.join(', ')}`);
    assert.ok(worker.alive());
    await worker.kill('SIGTERM');
  });
});
