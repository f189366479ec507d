import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Running } from '../../../src/main.js';
import { ApiError, JobFailedError, TablePort } from '../../../src/sdk/index.js';
import type { Job } from '../../../src/types/api.js';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { queueBackendOf } from '../../helpers/queue-store.js';
import { QueueName } from '../../../src/jobs/job-names.js';
import type { QueueBackend, QueueHandle } from '../../../src/queue/index.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { sleep } from '../../helpers/wait.js';

const SCHEMA = { fields: [{ name: 'n', type: 'integer' }] };

async function countRows(server: TestServer, tableId: number): Promise<number> {
  const { rows } = await server.db.query(`SELECT count(*)::int AS n FROM tableport_data.t_${tableId}`);
  return rows[0].n as number;
}

const BIN = fileURLToPath(new URL('../../../bin/tableport.js', import.meta.url));

/** The CLI from the sources (a dist/ build may be older than them), as a user runs it. */
function cli(server: TestServer, token: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, TABLEPORT_URL: server.baseUrl, TABLEPORT_TOKEN: token, TABLEPORT_FROM_SOURCE: '1' };
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function until(what: string, check: () => Promise<boolean>, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Holds an ACCESS EXCLUSIVE lock on a data table, so a job reading or writing it waits while running. */
async function lockTable(server: TestServer, tableId: number): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: server.config.databaseUrl });
  await c.connect();
  await c.query('BEGIN');
  await c.query(`LOCK TABLE tableport_data.t_${tableId} IN ACCESS EXCLUSIVE MODE`);
  return {
    async release() {
      await c.query('COMMIT');
      await c.end();
    },
  };
}

describe('cancel and retry', () => {
  // The API alone at first: a job stays queued until the test starts a worker.
  let server: TestServer;
  let backend: QueueBackend;
  // Started once, on demand; the test server closes it with its other peers.
  let worker: Promise<Running> | undefined;
  // The worker's log says when BullMQ's cancellation reached a running job.
  const logLines: string[] = [];
  before(async () => {
    server = await startTestServer({ roles: ['api'], env: { LOG_LEVEL: 'info' }, logTo: { write: (l) => void logLines.push(l) } });
    backend = await queueBackendOf(server);
  });
  after(async () => {
    await backend.close();
    await server.close();
  });

  function queue(name: QueueName.Export | QueueName.Import): QueueHandle {
    return backend.queue(name, {});
  }
  async function startWorker(): Promise<void> {
    worker ??= server.startPeer(['worker']);
    await worker;
  }
  /** Waits until BullMQ is done with the job (the attempt ended and released its claim). */
  async function settled(name: QueueName.Export | QueueName.Import, jobId: string): Promise<void> {
    const q = queue(name);
    await until(`bull job ${jobId} to end`, async () => {
      const j = await q.getJob(jobId);
      return !j || ['failed', 'completed'].includes(await j.getState());
    });
  }
  // The table's minute passes (the service's clock moves), so the next request of the kind is not too frequent.
  const freeMinute = () => server.clock.advance(61_000);

  test('a queued job cancelled never runs, and a cancelled job cannot be cancelled again', async () => {
    const { token } = await server.createUser();
    const c = client(server, token);
    const t = await createTable(server, token, 'queued', SCHEMA);
    await c
      .post(`/oserve/v1/table/${t}/record/`)
      .send([{ n: 1 }, { n: 2 }])
      .expect(201);
    const res = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const jobId = res.body.job_id as string;

    const cancel = await c.post(`/oserve/v1/jobs/${jobId}/cancel`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal(cancel.body.id, jobId);
    assert.equal(cancel.body.status, 'cancelled');
    assert.equal(await queue(QueueName.Export).getJob(jobId), undefined, 'the queue entry was withdrawn');

    // A worker starts and runs another export to the end: the cancelled one was never claimed.
    await startWorker();
    const t2 = await createTable(server, token, 'queued2', SCHEMA);
    const other = await c.post(`/oserve/v1/table/${t2}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal((await waitForJob(server, token, other.body.job_id)).status, 'succeeded');
    const { rows } = await server.db.query('SELECT status, attempts, started_at FROM tableport.jobs WHERE id = $1', [jobId]);
    assert.deepEqual(rows[0], { status: 'cancelled', attempts: 0, started_at: null });
    assert.equal(existsSync(join(server.config.storageDir, 'exports', jobId)), false);

    const again = await c.post(`/oserve/v1/jobs/${jobId}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error_code, 'job_not_cancellable');
    // MinApp's view has no word for it: a cancelled export is a failed one there.
    const minapp = await c.get(`/oserve/v1/table/${t}/export/${jobId}/`);
    assert.equal(minapp.body.status, 'failed');
    assert.equal(server.smtp.messages.filter((m) => m.text?.includes(jobId)).length, 0, 'no mail for a cancelled job');
  });

  test('a running export cancelled ends cancelled with no file', async () => {
    await startWorker();
    const { token } = await server.createUser();
    const c = client(server, token);
    const t = await createTable(server, token, 'running_export', SCHEMA);
    await c
      .post(`/oserve/v1/table/${t}/record/`)
      .send([{ n: 1 }, { n: 2 }])
      .expect(201);
    // The request counts the rows, so the lock comes after it, while the queue holds the job.
    const q = queue(QueueName.Export);
    await q.pause();
    const res = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    const lock = await lockTable(server, t);
    await q.resume();
    let released = false;
    try {
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const jobId = res.body.job_id as string;
      await until('the export to run', async () => (await c.get(`/oserve/v1/jobs/${jobId}`)).body.status === 'running');
      const cancel = await c.post(`/oserve/v1/jobs/${jobId}/cancel`);
      assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
      assert.equal(cancel.body.status, 'cancelled');
      await until('the worker to abort the running job', async () =>
        logLines.some((l) => l.includes(jobId) && l.includes('running job cancelled')),
      );
      await lock.release();
      released = true;
      await settled(QueueName.Export, jobId);
      const job = (await c.get(`/oserve/v1/jobs/${jobId}`)).body as Job;
      assert.equal(job.status, 'cancelled');
      assert.equal(job.file_url, null);
      assert.equal(existsSync(join(server.config.storageDir, 'exports', jobId)), false, 'no file, partial or whole');
    } finally {
      if (!released) await lock.release();
    }
  });

  test('a running import cancelled writes no row and keeps its upload for a retry', async () => {
    await startWorker();
    const { token } = await server.createUser();
    const c = client(server, token);
    const t = await createTable(server, token, 'running_import', SCHEMA);
    const lock = await lockTable(server, t);
    let released = false;
    try {
      const res = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('n\n1\n2\n3\n'), 'n.csv');
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const jobId = res.body.job_id as string;
      await until('the import to run', async () => (await c.get(`/oserve/v1/jobs/${jobId}`)).body.status === 'running');
      assert.equal((await c.post(`/oserve/v1/jobs/${jobId}/cancel`)).status, 200);
      await until('the worker to abort the running job', async () =>
        logLines.some((l) => l.includes(jobId) && l.includes('running job cancelled')),
      );
      await lock.release();
      released = true;
      await settled(QueueName.Import, jobId);
      assert.equal((await c.get(`/oserve/v1/jobs/${jobId}`)).body.status, 'cancelled');
      assert.equal(await countRows(server, t), 0, 'the import wrote no row');

      // The retry runs the same file: now it succeeds.
      freeMinute();
      const retry = await c.post(`/oserve/v1/jobs/${jobId}/retry`);
      assert.equal(retry.status, 201, JSON.stringify(retry.body));
      assert.notEqual(retry.body.job_id, jobId);
      assert.equal((await waitForJob(server, token, retry.body.job_id)).status, 'succeeded');
      assert.equal(await countRows(server, t), 3);
    } finally {
      if (!released) await lock.release();
    }
  });

  test('retry of a failed import: a new job that fails the same way, within the minute too_frequent, then the upload is gone', async () => {
    await startWorker();
    const { token } = await server.createUser();
    const c = client(server, token);
    const t = await createTable(server, token, 'retry', SCHEMA);
    const res = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('n\n1\nnope\n'), 'bad.csv');
    const first = await waitForJob(server, token, res.body.job_id);
    assert.equal(first.status, 'failed');

    const early = await c.post(`/oserve/v1/jobs/${first.id}/retry`);
    assert.equal(early.status, 400);
    assert.equal(early.body.error_code, 'too_frequent');

    freeMinute();
    const retry = await c.post(`/oserve/v1/jobs/${first.id}/retry`);
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.equal(retry.body.status, 'ok');
    assert.notEqual(retry.body.job_id, first.id);
    const second = await waitForJob(server, token, retry.body.job_id);
    assert.equal(second.status, 'failed');
    assert.deepEqual(second.errors, first.errors, 'the same file fails the same way');
    assert.equal(await countRows(server, t), 0);

    // The upload moved to the retry: the old job cannot be retried a second time.
    freeMinute();
    const gone = await c.post(`/oserve/v1/jobs/${first.id}/retry`);
    assert.equal(gone.status, 410);
    assert.equal(gone.body.error_code, 'upload_gone');
    assert.match(gone.body.error_msg, /upload it again/);

    // A job with a location (an object store, a URL) keeps its credentials sealed to its own id:
    // not retried, with a sentence that says to ask again. (The column comes with the location work.)
    await server.db.query('ALTER TABLE tableport.jobs ADD COLUMN IF NOT EXISTS location_sealed text');
    await server.db.query(`UPDATE tableport.jobs SET location_sealed = 'tp1.sealed' WHERE id = $1`, [second.id]);
    freeMinute();
    const located = await c.post(`/oserve/v1/jobs/${second.id}/retry`);
    assert.equal(located.status, 409);
    assert.equal(located.body.error_code, 'job_not_retriable');
    assert.match(located.body.error_msg, /ask for the export or import again/);

    // A succeeded job is not retried.
    const t2 = await createTable(server, token, 'retry_ok', SCHEMA);
    const ok = await c.post(`/oserve/v1/table/${t2}/import/`).attach('file', Buffer.from('n\n1\n'), 'ok.csv');
    assert.equal((await waitForJob(server, token, ok.body.job_id)).status, 'succeeded');
    const no = await c.post(`/oserve/v1/jobs/${ok.body.job_id}/retry`);
    assert.equal(no.status, 409);
    assert.equal(no.body.error_code, 'job_not_retriable');
  });

  test('the SDK and the CLI cancel and retry', async () => {
    await startWorker();
    const { token } = await server.createUser();
    const tp = new TablePort({ baseUrl: server.baseUrl, token });
    const t = await createTable(server, token, 'sdk', SCHEMA);
    const res = await client(server, token).post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('n\nnope\n'), 'bad.csv');
    const failed = await waitForJob(server, token, res.body.job_id);
    assert.equal(failed.status, 'failed');
    await assert.rejects(
      tp.job(failed.id).cancel(),
      (e: unknown) => e instanceof ApiError && e.errorCode === 'job_not_cancellable' && e.status === 409,
    );

    const early = await cli(server, token, 'jobs', 'retry', failed.id);
    assert.equal(early.code, 3, early.stderr);
    assert.match(early.stderr, /too_frequent/);

    freeMinute();
    const again = await tp.retryJob(failed.id);
    assert.notEqual(again.id, failed.id);
    await assert.rejects(
      again.wait(),
      (e: unknown) => e instanceof JobFailedError && e.errors[0]?.error_code === failed.errors[0]?.error_code,
    );

    // A queued job, cancelled from the CLI (the queue is paused so it stays queued).
    const q = queue(QueueName.Import);
    await q.pause();
    try {
      const t2 = await createTable(server, token, 'cli_cancel', SCHEMA);
      const queued = await client(server, token).post(`/oserve/v1/table/${t2}/import/`).attach('file', Buffer.from('n\n1\n'), 'a.csv');
      const run = await cli(server, token, 'jobs', 'cancel', queued.body.job_id);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /cancelled/);
      assert.equal((await tp.job(queued.body.job_id).status()).status, 'cancelled');
      await assert.rejects(
        tp.job(queued.body.job_id).wait(),
        (e: unknown) => e instanceof JobFailedError && /was cancelled/.test(e.message),
      );
      freeMinute();
      const retried = await cli(server, token, 'jobs', 'retry', queued.body.job_id);
      assert.equal(retried.code, 0, retried.stderr);
      const newId = retried.stdout.trim().split('\n').pop() ?? '';
      assert.notEqual(newId, queued.body.job_id);
      await q.resume();
      assert.equal((await waitForJob(server, token, newId)).status, 'succeeded');
      assert.equal(await countRows(server, t2), 1);
    } finally {
      await q.resume();
    }
  });

  test("another user's job cannot be cancelled or retried", async () => {
    const owner = await server.createUser();
    const other = await server.createUser();
    const t = await createTable(server, owner.token, 'mine', SCHEMA);
    const res = await client(server, owner.token).post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('n\nx\n'), 'x.csv');
    const jobId = res.body.job_id as string;
    const cancel = await client(server, other.token).post(`/oserve/v1/jobs/${jobId}/cancel`);
    assert.equal(cancel.status, 404);
    assert.equal(cancel.body.error_code, 'not_found');
    const retry = await client(server, other.token).post(`/oserve/v1/jobs/${jobId}/retry`);
    assert.equal(retry.status, 404);
    assert.notEqual((await client(server, owner.token).get(`/oserve/v1/jobs/${jobId}`)).body.status, 'cancelled');
  });
});
