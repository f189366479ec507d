import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UnrecoverableError } from 'bullmq';
import { dateOf, systemClock } from '../../../src/clock.js';
import { JobQueues } from '../../../src/jobs/queues.js';
import { createQueueBackend } from '../../../src/queue/index.js';
import { createLogger } from '../../../src/logger.js';
import { createServices, type Services } from '../../../src/services/index.js';
import { JobAbortedError, JobBusyError, JobEndedElsewhereError } from '../../../src/jobs/lifecycle/job-outcomes.js';
import { downloadLinks } from '../../../src/http/download-links.js';
import { createLocationContext } from '../../../src/locations/index.js';
import { createStorage, type ServiceStorage } from '../../../src/storage/index.js';
import { createPool, type Pool } from '../../../src/db/pool.js';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { queueBackendOf } from '../../helpers/queue-store.js';
import { QueueName } from '../../../src/jobs/job-names.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const SCHEMA = { fields: [{ name: 'n', type: 'integer' }] };

/** The services of `server`, built in the test, to drive the lifecycle directly. */
async function servicesOf(
  server: TestServer,
  o: { pool?: Pool; storage?: ServiceStorage } = {},
): Promise<{ services: Services; close(): Promise<void> }> {
  const logger = createLogger('silent');
  const queues = new JobQueues(await createQueueBackend(server.config, 'worker', logger, systemClock), server.config);
  const locations = createLocationContext(server.config.locations, logger);
  const storage = o.storage ?? createStorage(server.config, locations);
  const links = downloadLinks(server.config);
  const services = createServices({ config: server.config, pool: o.pool ?? server.db, queues, storage, locations, links, logger });
  return {
    services,
    close: () => queues.close(),
  };
}

async function countRows(server: TestServer, tableId: number): Promise<number> {
  const { rows } = await server.db.query(`SELECT count(*)::int AS n FROM tableport_data.t_${tableId}`);
  return rows[0].n as number;
}

describe('job lifecycle: claim and succeed', () => {
  let server: TestServer;
  let s: Awaited<ReturnType<typeof servicesOf>>;
  before(async () => {
    // No workers: the test runs the attempts itself. Heartbeats every half second.
    server = await startTestServer({ roles: ['api'], env: { JOB_STALE_SECONDS: '3' } });
    s = await servicesOf(server);
  });
  after(async () => {
    await s.close();
    await server.close();
  });

  async function queuedImport(name: string): Promise<{ tableId: number; jobId: string }> {
    const { token } = await server.createUser();
    const tableId = await createTable(server, token, name, SCHEMA);
    const res = await client(server, token)
      .post(`/oserve/v1/table/${tableId}/import/`)
      .attach('file', Buffer.from('n\n1\n2\n3\n'), 'n.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { tableId, jobId: res.body.job_id as string };
  }

  test('a second attempt while the first holds the claim is refused and writes nothing', async () => {
    const { tableId, jobId } = await queuedImport('claimed');
    const { lifecycle } = s.services;
    await assert.rejects(
      lifecycle.run(jobId, async () => {
        // The first attempt is alive (paused, cut off from Redis); BullMQ hands the job to another.
        await assert.rejects(lifecycle.run(jobId), JobBusyError);
        assert.equal(await countRows(server, tableId), 0);
        throw new Error('the first attempt gives up');
      }),
      /the first attempt gives up/,
    );
    assert.equal(await countRows(server, tableId), 0, 'the refused attempt wrote nothing');
    // With the claim free, the job runs, once.
    const done = await lifecycle.run(jobId);
    assert.equal(done?.status, 'succeeded');
    assert.equal(await countRows(server, tableId), 3);
    assert.equal(await lifecycle.run(jobId), null, 'a re-delivery of the ended job does nothing');
    assert.equal(await countRows(server, tableId), 3);
  });

  test('a cancel recorded only in the database reaches the running attempt through its heartbeat', async () => {
    const { tableId, jobId } = await queuedImport('cancelled_quietly');
    const attempt = s.services.lifecycle.run(jobId, async ({ db, signal }) => {
      await db.query(`INSERT INTO tableport_data.t_${tableId} (id, created_at, updated_at, created_by, n) VALUES ('x', 1, 1, '1', 1)`);
      // The job is cancelled with no message to the workers (Redis away): only the row says so.
      await server.db.query(`UPDATE tableport.jobs SET status = 'cancelled' WHERE id = $1`, [jobId]);
      await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      return { rows: 1 };
    });
    await assert.rejects(attempt, JobEndedElsewhereError);
    assert.equal(await countRows(server, tableId), 0, 'what the cancelled attempt wrote was rolled back');
  });

  test('work that ignores its signal loses its claim after the grace, and the job can run again', async () => {
    const { tableId, jobId } = await queuedImport('deaf');
    const controller = new AbortController();
    const attempt = s.services.lifecycle.run(
      jobId,
      async ({ db }) => {
        await db.query(`INSERT INTO tableport_data.t_${tableId} (id, created_at, updated_at, created_by, n) VALUES ('x', 1, 1, '1', 1)`);
        controller.abort(new Error('shutting down'));
        // Never returns, and never looks at its signal.
        return new Promise<never>(() => undefined);
      },
      controller.signal,
    );
    await assert.rejects(attempt, JobAbortedError);
    assert.equal(await countRows(server, tableId), 0, 'the abandoned transaction rolled back');
    // The claim went with the abandoned connection: a new attempt runs the job, once.
    const done = await s.services.lifecycle.run(jobId);
    assert.equal(done?.status, 'succeeded');
    assert.equal(await countRows(server, tableId), 3);
  });

  test('a succeed that updates no row rolls back what the attempt wrote', async () => {
    const { tableId, jobId } = await queuedImport('ended_elsewhere');
    await assert.rejects(
      s.services.lifecycle.run(jobId, async ({ db }) => {
        await db.query(`INSERT INTO tableport_data.t_${tableId} (id, created_at, updated_at, created_by, n) VALUES ('x', 1, 1, '1', 1)`);
        // Meanwhile the job is ended by someone else (the sweep, a cancel).
        await server.db.query(`UPDATE tableport.jobs SET status = 'failed' WHERE id = $1`, [jobId]);
        return { rows: 1 };
      }),
      JobEndedElsewhereError,
    );
    assert.equal(await countRows(server, tableId), 0, 'the rows went with the refused success');
    const { rows } = await server.db.query('SELECT status FROM tableport.jobs WHERE id = $1', [jobId]);
    assert.equal(rows[0].status, 'failed');
  });
});

describe('job lifecycle: the sweep', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      roles: ['api'],
      env: { JOB_SWEEP_INTERVAL_SECONDS: '1', JOB_SWEEP_GRACE_SECONDS: '1', INCOMING_MAX_AGE_SECONDS: '60' },
    });
  });
  after(() => server.close());

  test('re-queues an accepted job that the queue lost, and it runs once with one mail', async () => {
    const { token } = await server.createUser();
    const t = await createTable(server, token, 'lost', SCHEMA);
    await client(server, token)
      .post(`/oserve/v1/table/${t}/record/`)
      .send([{ n: 1 }, { n: 2 }]);
    const res = await client(server, token).post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201);
    const jobId = res.body.job_id as string;
    // The queue forgets the job (Redis restarted without persistence), as if it had never been queued.
    const backend = await queueBackendOf(server);
    const q = backend.queue(QueueName.Export, {});
    await q.remove(jobId);
    assert.equal(await q.getJob(jobId), undefined);
    await backend.close();
    // An orphaned upload of a request that died, long untouched.
    const incoming = join(server.config.storageDir, '.incoming');
    await mkdir(incoming, { recursive: true });
    const orphan = join(incoming, 'orphan');
    await writeFile(orphan, 'half an upload');
    const old = new Date(Date.now() - 3600_000);
    await utimes(orphan, old, old);

    await server.startPeer(['worker']);
    const job = await waitForJob(server, token, jobId, 30_000);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.rows, 2);
    await server.smtp.waitForMessage((m) => m.text.includes(jobId), 20_000);
    assert.equal(server.smtp.messages.filter((m) => m.text.includes(jobId)).length, 1);
    await waitFor('the orphaned upload to be removed', () => !existsSync(orphan), { timeoutMs: 20_000, intervalMs: 200 });
  });
});

describe('job lifecycle: the sweep records what could not be recorded', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ roles: ['api'], env: { JOB_SWEEP_GRACE_SECONDS: '1' } });
  });
  after(() => server.close());

  test('a job BullMQ failed while its failure could not be written is recorded failed and mailed', async () => {
    const { token } = await server.createUser();
    const t = await createTable(server, token, 'unrecorded', SCHEMA);
    const res = await client(server, token).post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    const jobId = res.body.job_id as string;
    // A worker whose every attempt died with the database: BullMQ failed the job, the row never heard.
    const backend = await queueBackendOf(server);
    const dead = backend.worker(
      QueueName.Export,
      async () => {
        throw new UnrecoverableError('connect ECONNREFUSED 127.0.0.1:5432');
      },
      { name: 'dead', concurrency: 1 },
    );
    const q = backend.queue(QueueName.Export, {});
    const mails = backend.queue(QueueName.Email, {});
    const s = await servicesOf(server);
    try {
      await waitFor('BullMQ to fail the job', async () => (await (await q.getJob(jobId))?.getState()) === 'failed');
      assert.equal((await client(server, token).get(`/oserve/v1/jobs/${jobId}`)).body.status, 'queued');
      server.clock.advance(1100);

      const report = await s.services.sweep.sweep(dateOf(server.clock));
      assert.equal(report.failed, 1);
      const job = (await client(server, token).get(`/oserve/v1/jobs/${jobId}`)).body;
      assert.equal(job.status, 'failed');
      assert.match(job.errors[0].error_msg, /ECONNREFUSED/);
      assert.ok(await mails.getJob(`mail-${jobId}`), 'the mail is queued');
      assert.equal((await s.services.sweep.sweep()).failed, 0, 'recorded once');
    } finally {
      await dead.close();
      await q.close();
      await mails.close();
      await s.close();
      await backend.close();
    }
  });
});

describe('job lifecycle: clean-up', () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    server = await startTestServer({ env: { JOB_ATTEMPTS: '1', MAIL_ATTEMPTS: '2' } });
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  test('a succeeded import leaves no folder behind; a failed one keeps only its upload, for a retry', async () => {
    const t = await createTable(server, token, 'tidy', SCHEMA);
    const ok = await client(server, token).post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('n\n1\n'), 'a.csv');
    assert.equal((await waitForJob(server, token, ok.body.job_id)).status, 'succeeded');
    const t2 = await createTable(server, token, 'tidy2', SCHEMA);
    const bad = await client(server, token).post(`/oserve/v1/table/${t2}/import/`).attach('file', Buffer.from('n\n1\nnope\n'), 'b.csv');
    assert.equal((await waitForJob(server, token, bad.body.job_id)).status, 'failed');
    const imports = join(server.config.storageDir, 'imports');
    const left = async () => (existsSync(imports) ? await readdir(imports) : []);
    // The folder goes right after the job's end is recorded (not in the same transaction): wait for it.
    for (let i = 0; i < 100 && (await left()).length > 1; i++) await sleep(100);
    assert.deepEqual(await left(), [bad.body.job_id], 'only the failed import keeps its folder (the upload, for a retry)');
    assert.deepEqual(await readdir(join(imports, bad.body.job_id)), ['upload.csv']);
  });

  test('an export whose storage refuses the file before reading it frees its database connection', async () => {
    const t = await createTable(server, token, 'nowhere', SCHEMA);
    // More rows than the streams buffer, so the COPY cannot finish on its own.
    await server.db.query(
      `INSERT INTO tableport_data.t_${t} (id, created_at, updated_at, created_by, n) SELECT 'r' || g, 1, 1, '1', g FROM generate_series(1, 300000) g`,
    );
    const res = await client(server, token).post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    await waitForJob(server, token, res.body.job_id);
    await server.db.query(`UPDATE tableport.jobs SET status = 'queued' WHERE id = $1`, [res.body.job_id]);
    // A store that fails before it reads a byte (a full disk, an object store refusing the upload).
    const local = createStorage(server.config, createLocationContext(server.config.locations));
    const refusing: ServiceStorage = {
      put: () => Promise.reject(new Error('no space left on device')),
      putFile: (k, p) => local.putFile(k, p),
      get: (k, r) => local.get(k, r),
      stat: (k) => local.stat(k),
      delete: (k) => local.delete(k),
      deletePrefix: async (p) => local.deletePrefix?.(p),
    };
    const pool = createPool(server.config.databaseUrl, { max: 4 });
    const s = await servicesOf(server, { pool, storage: refusing });
    try {
      await assert.rejects(s.services.lifecycle.run(res.body.job_id as string), /no space left/);
      // Ending the COPY is immediate once the stream is destroyed; the leak held it for seconds or for ever.
      await waitFor('no connection left checked out by the COPY', () => pool.totalCount - pool.idleCount === 0, { timeoutMs: 5000 });
    } finally {
      await s.close();
      await pool.end();
    }
  });

  test('expired exports lose their whole folder', async () => {
    const t = await createTable(server, token, 'expiring', SCHEMA);
    await client(server, token)
      .post(`/oserve/v1/table/${t}/record/`)
      .send([{ n: 1 }]);
    const res = await client(server, token).post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded');
    const folder = join(server.config.storageDir, 'exports', job.id);
    assert.ok(existsSync(folder));
    const s = await servicesOf(server);
    try {
      const removed = await s.services.lifecycle.removeExpiredExports(
        new Date(Date.now() + (server.config.downloadLinkTtlSeconds + 60) * 1000),
      );
      assert.ok(removed >= 1);
    } finally {
      await s.close();
    }
    assert.equal(existsSync(folder), false, 'the export folder is gone');
    // The earlier test's failed import kept its upload for a retry: the same expiry takes it.
    const imports = join(server.config.storageDir, 'imports');
    assert.deepEqual(existsSync(imports) ? await readdir(imports) : [], [], 'kept uploads expire with the links');
  });

  test('SMTP down past the last mail attempt: the mail goes to the outbox and the job says so', async () => {
    const t = await createTable(server, token, 'no_smtp', SCHEMA);
    await server.smtp.stop();
    try {
      const res = await client(server, token).post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
      const job = await waitForJob(server, token, res.body.job_id);
      assert.equal(job.status, 'succeeded');
      const until = Date.now() + 20_000;
      let mailStatus: unknown;
      while (Date.now() < until) {
        mailStatus = (await client(server, token).get(`/oserve/v1/jobs/${job.id}`)).body.mail_status;
        if (mailStatus === 'outbox') break;
        await sleep(100);
      }
      assert.equal(mailStatus, 'outbox');
      const emls = (await readdir(server.config.mailOutboxDir)).filter((f) => f.endsWith('.eml'));
      assert.equal(emls.length, 1);
      const { rows } = await server.db.query('SELECT attempts FROM tableport.jobs WHERE id = $1', [job.id]);
      assert.equal(rows[0].attempts, 1, 'the export was not re-run');
    } finally {
      await server.smtp.start();
    }
  });
});
