/**
 * Every job ends within a bound, and one user cannot hold every slot: a job whose work never
 * returns (here, an import from a URL whose server accepts the connection and never answers) is
 * stopped by a cancel or by its deadline, and gives its worker slot back within seconds.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { sleep } from '../../helpers/wait.js';

const SCHEMA = { fields: [{ name: 'n', type: 'integer' }] };

/** A TCP server that accepts every connection and never says a word. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function status(server: TestServer, token: string, jobId: string): Promise<string> {
  return (await client(server, token).get(`/oserve/v1/jobs/${jobId}`)).body.status as string;
}

async function waitForStatus(server: TestServer, token: string, jobId: string, want: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while ((await status(server, token, jobId)) !== want) {
    if (Date.now() > until) throw new Error(`job ${jobId} did not become ${want} within ${ms} ms`);
    await sleep(50);
  }
}

describe('job bounds: cancel, deadline, fairness', () => {
  let server: TestServer;
  let silent: Awaited<ReturnType<typeof silentServer>>;

  before(async () => {
    silent = await silentServer();
    server = await startTestServer({
      env: {
        WORKER_CONCURRENCY: '2',
        // The outbound deadline is far away: what ends these jobs is the lifecycle's own bound.
        OUTBOUND_TIMEOUT_MS: '600000',
        OUTBOUND_ALLOW_HOSTS: `127.0.0.1:${silent.port}`,
        JOB_ABORT_GRACE_MS: '1500',
        JOB_STALE_SECONDS: '6',
        JOB_TIMEOUT_SECONDS: '4',
      },
    });
  });
  after(async () => {
    await server.close();
    await silent.close();
  });

  /** An import that hangs on the silent server until something stops it. */
  async function hangingImport(token: string, name: string): Promise<string> {
    const t = await createTable(server, token, name, SCHEMA);
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .send({ source: `http://127.0.0.1:${silent.port}/${name}.csv` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.job_id as string;
  }

  async function quickExport(token: string, name: string): Promise<string> {
    const t = await createTable(server, token, name, SCHEMA);
    await client(server, token)
      .post(`/oserve/v1/table/${t}/record/`)
      .send([{ n: 1 }, { n: 2 }]);
    const res = await client(server, token).post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.job_id as string;
  }

  test('a job past JOB_TIMEOUT_SECONDS fails with job_timeout and frees its slot', async () => {
    const { token } = await server.createUser();
    const jobId = await hangingImport(token, 'too_slow');
    const job = await waitForJob(server, token, jobId, 20_000);
    assert.equal(job.status, 'failed');
    assert.equal(job.errors[0]?.error_code, 'job_timeout', JSON.stringify(job.errors));
    assert.match(job.errors[0]?.error_msg ?? '', /JOB_TIMEOUT_SECONDS/);
    // The slot is free: another job runs to its end.
    const next = await waitForJob(server, token, await quickExport(token, 'after_timeout'), 15_000);
    assert.equal(next.status, 'succeeded');
  });

  test('one user runs one job at a time when two slots exist: the other user is not kept waiting', async () => {
    const a = await server.createUser();
    const b = await server.createUser();
    const first = await hangingImport(a.token, 'a_first');
    await waitForStatus(server, a.token, first, 'running');
    const second = await hangingImport(a.token, 'a_second');
    const theirs = await quickExport(b.token, 'b_export');
    // B's export takes the second slot while A's second job waits its turn.
    assert.equal((await waitForJob(server, b.token, theirs, 15_000)).status, 'succeeded');
    assert.equal(await status(server, a.token, second), 'queued', "the user's second job waits while their first runs");
    // Cancel stops the hanging job and gives its slot back within 10 s: A's turn comes.
    const res = await client(server, a.token).post(`/oserve/v1/jobs/${first}/cancel`);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'cancelled');
    await waitForStatus(server, a.token, second, 'running', 10_000);
    await client(server, a.token).post(`/oserve/v1/jobs/${second}/cancel`);
  });
});
