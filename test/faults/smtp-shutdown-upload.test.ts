/**
 * SMTP down during and past a job's mail, an API killed mid-upload, and a worker stopped past
 * SHUTDOWN_TIMEOUT_MS (faults E and G): nothing is re-run, nothing is left behind, one mail.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe } from 'node:test';
import { startFaultEnv, sleep, waitFor, type FaultEnv } from './helpers/fault-env.js';
import { faultTest } from './helpers/fault-tally.js';
import { FIELDS, bigCsv, fillTable, rowCounts, uploadImport, waitForCopy } from './helpers/import-data.js';
import { freePort } from '../helpers/ports.js';

const listing = (dir: string) => readdir(dir).catch(() => [] as string[]);

describe('faults: SMTP, API and shutdown', () => {
  let fe: FaultEnv;
  let token: string;
  before(async () => {
    fe = await startFaultEnv({ redisPort: await freePort(), pgPort: await freePort() });
    ({ token } = await fe.createUser());
  });
  afterEach(() => fe?.stopWorkers());
  after(() => fe?.close());

  async function exportOf(name: string): Promise<string> {
    const t = await fe.createTable(token, name, FIELDS);
    await fillTable(fe, t, 100);
    const res = await fe.request(token, 'POST', `/oserve/v1/table/${t}/export/`, { file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.job_id as string;
  }

  async function attemptsOf(jobId: string): Promise<number> {
    const { rows } = await fe.db.query('SELECT attempts FROM tableport.jobs WHERE id = $1', [jobId]);
    return rows[0].attempts as number;
  }

  faultTest('SMTP down during a job: the mail arrives once after it returns, the export is not re-run', async () => {
    const worker = await fe.startWorker();
    await fe.smtp.stop();
    const jobId = await exportOf('smtp_blip');
    const job = await fe.waitForJob(token, jobId);
    assert.equal(job.status, 'succeeded');
    await sleep(1000);
    assert.equal(fe.mailsFor(jobId), 0);
    await fe.smtp.start();
    await waitFor('the mail', async () => fe.mailsFor(jobId) > 0);
    await sleep(1500);
    assert.equal(fe.mailsFor(jobId), 1);
    assert.equal(await attemptsOf(jobId), 1, 'the export ran once');
    assert.equal((await fe.job(token, jobId)).mail_status, 'sent');
    await worker.kill('SIGTERM');
  });

  faultTest('SMTP down past the last mail attempt: the mail goes to the outbox and the job says so', async () => {
    const worker = await fe.startWorker({ MAIL_ATTEMPTS: '2' });
    await fe.smtp.stop();
    try {
      const jobId = await exportOf('smtp_outage');
      assert.equal((await fe.waitForJob(token, jobId)).status, 'succeeded');
      await waitFor('the outbox fallback', async () => (await fe.job(token, jobId)).mail_status === 'outbox');
      const emls = (await listing(fe.outboxDir)).filter((f) => f.endsWith('.eml'));
      assert.equal(emls.length, 1);
      assert.equal(await attemptsOf(jobId), 1, 'the export ran once');
    } finally {
      await fe.smtp.start();
    }
    await worker.kill('SIGTERM');
  });

  faultTest('API killed (kill -9) mid-upload: nothing is left in .incoming after the sweep (E)', async () => {
    const worker = await fe.startWorker({ INCOMING_MAX_AGE_SECONDS: '2' });
    const t = await fe.createTable(token, 'cut_upload', FIELDS);
    const incoming = join(fe.storageDir, '.incoming');
    const url = new URL(`${fe.api.url}/oserve/v1/table/${t}/import/`);
    const boundary = 'faultboundary';
    const req = request(url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': String(64 * 1024 * 1024),
      },
    });
    req.on('error', () => undefined);
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\nn,s\n`);
    const chunk = Buffer.from('1,"padding padding padding"\n'.repeat(4096));
    for (let i = 0; i < 40; i++) req.write(chunk);
    await waitFor('a half-received upload', async () => (await listing(incoming)).length > 0);
    await fe.api.kill('SIGKILL');
    req.destroy();
    assert.ok((await listing(incoming)).length > 0, 'the dead API left its upload behind');
    await fe.startApi();
    await waitFor('the sweep to remove it', async () => (await listing(incoming)).length === 0, 30_000);
    await worker.kill('SIGTERM');
  });

  faultTest('SHUTDOWN_TIMEOUT_MS is enforced: the running import is stopped, rolled back and handed back (G)', async () => {
    const t = await fe.createTable(token, 'slow_stop', FIELDS);
    const rows = 400_000;
    const jobId = await uploadImport(fe, token, t, bigCsv(rows));
    // Another session holds the table, so the import's COPY waits inside its transaction for as
    // long as the test wants: however fast the machine, the import is still running at SIGTERM.
    const holder = await fe.db.connect();
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE tableport_data.t_${t} IN SHARE MODE`);
    const w1 = await fe.startWorker({ SHUTDOWN_TIMEOUT_MS: '1000' });
    try {
      await waitForCopy(fe, t, 'in');
      await w1.kill('SIGTERM');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    // The worker is gone while its import was still running: the import was stopped, not finished.
    const job = await fe.job(token, jobId);
    assert.equal(job.status, 'queued', 'handed back to the queue');
    assert.deepEqual(await rowCounts(fe, t), { n: 0, d: 0 }, 'its transaction was rolled back');
    assert.equal(w1.child.exitCode, 0);
    const w2 = await fe.startWorker();
    const done = await fe.waitForJob(token, jobId);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.errors));
    assert.deepEqual(await rowCounts(fe, t), { n: rows, d: rows });
    await waitFor('the mail', async () => fe.mailsFor(jobId) > 0);
    assert.equal(fe.mailsFor(jobId), 1);
    await w2.kill('SIGTERM');
  });
});
