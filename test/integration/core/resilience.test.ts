import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { queueBackendOf } from '../../helpers/queue-store.js';
import { QueueName } from '../../../src/jobs/job-names.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startChildWorker, waitForActiveImportCopy } from '../../helpers/workers.js';
import { defined } from '../../helpers/defined.js';
import { waitFor } from '../../helpers/wait.js';

describe('rate limit across API processes', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('two API instances racing for one table: exactly one task is queued', async () => {
    const { token } = await server.createUser();
    const t = await createTable(server, token, 'raced');
    const peer = await server.startPeer(['api']);
    const bodies = Array.from({ length: 10 }, (_, i) =>
      request(i % 2 ? server.baseUrl : defined(peer.url, 'peer.url'))
        .post(`/oserve/v1/table/${t}/export/`)
        .set('Authorization', `Bearer ${token}`)
        .send({ file_type: 'csv', mode: 'all' }),
    );
    const results = await Promise.all(bodies);
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
    assert.ok(
      results.filter((r) => r.status === 400).every((r) => r.body.error_code === 'too_frequent' && Number(r.headers['retry-after']) > 0),
    );
  });
});

describe('a worker that dies mid-import', () => {
  let server: TestServer;
  before(async () => {
    // The API only: the import is run by worker processes the test starts and kills.
    server = await startTestServer({ roles: ['api'] });
  });
  after(() => server.close());

  test('is replaced by another that imports every row exactly once', async () => {
    const { token } = await server.createUser();
    const t = await createTable(server, token, 'crashy', {
      fields: [
        { name: 'n', type: 'integer' },
        { name: 's', type: 'string' },
      ],
    });
    const N = 200_000;
    let csv = 'n,s\n';
    for (let i = 0; i < N; i++) csv += `${i},"row ${i}, with ""quotes"""\n`;
    const res = await client(server, token).post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from(csv), 'many.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));

    const first = await startChildWorker(server);
    // Wait until the first worker is streaming rows into PostgreSQL, then kill it without warning.
    await waitForActiveImportCopy(server);
    first.kill('SIGKILL');
    await once(first, 'exit');

    const second = await startChildWorker(server);
    try {
      const job = await waitForJob(server, token, res.body.job_id, 60_000);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
      assert.equal(job.rows, N);
      const { rows } = await server.db.query(`SELECT count(*)::int AS n, count(DISTINCT n)::int AS d FROM tableport_data.t_${t}`);
      assert.deepEqual(rows[0], { n: N, d: N }, 'every row once, none twice');
      const attempts = await server.db.query('SELECT attempts FROM tableport.jobs WHERE id = $1', [job.id]);
      assert.ok(attempts.rows[0].attempts >= 2, 'the job really ran twice');

      await server.smtp.waitForMessage((m) => m.text.includes(job.id));

      // Delivering the finished job once more (a duplicate delivery) must not import again, nor mail again.
      const backend = await queueBackendOf(server);
      const q = backend.queue(QueueName.Import, {});
      await q.add('import', { jobId: job.id }, { jobId: `again-${job.id}` });
      await waitFor('the duplicate delivery to run', async () => (await (await q.getJob(`again-${job.id}`))?.getState()) === 'completed');
      // Whatever the duplicate queued is queued by now: once the mail queue is idle, every mail is sent.
      const mq = backend.queue(QueueName.Email, {});
      await waitFor('the mail queue to be idle', async () => {
        const counts = await mq.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      });
      await backend.close();
      const again = await server.db.query(`SELECT count(*)::int AS n FROM tableport_data.t_${t}`);
      assert.equal(again.rows[0].n, N);
      const mails = server.smtp.messages.filter((m) => m.text.includes(job.id));
      assert.equal(mails.length, 1, 'one mail for the job');
    } finally {
      second.kill('SIGTERM');
      await once(second, 'exit');
    }
  });
});

describe('an SMTP outage', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('delays the mail and does not redo the export', async () => {
    const { token, email } = await server.createUser();
    const t = await createTable(server, token, 'outage');
    await client(server, token)
      .post(`/oserve/v1/table/${t}/record/`)
      .send([{ title: 'a' }, { title: 'b' }]);
    await server.smtp.stop();
    const res = await client(server, token).post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded');
    // The mail was tried and refused (SMTP is down), not merely not tried yet.
    const backend = await queueBackendOf(server);
    try {
      const mq = backend.queue(QueueName.Email, {});
      await waitFor('a refused mail attempt', async () => ((await mq.getJob(`mail-${job.id}`))?.attemptsMade ?? 0) >= 1);
    } finally {
      await backend.close();
    }
    assert.equal(server.smtp.messages.filter((m) => m.text.includes(job.id)).length, 0);
    const sent = await server.db.query('SELECT mail_sent_at FROM tableport.jobs WHERE id = $1', [job.id]);
    assert.equal(sent.rows[0].mail_sent_at, null);

    await server.smtp.start();
    const mail = await server.smtp.waitForMessage((m) => m.text.includes(job.id), 20_000);
    assert.deepEqual(mail.to, [email]);
    const row = await server.db.query('SELECT attempts, finished_at FROM tableport.jobs WHERE id = $1', [job.id]);
    assert.equal(row.rows[0].attempts, 1, 'the export ran once');
    assert.equal(Math.floor(row.rows[0].finished_at.getTime() / 1000), job.finished_at);
  });
});
