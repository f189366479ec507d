/**
 * Redis Cluster readiness (issue 12): tableport against a 3-node Redis Cluster of its own, started
 * on loopback ports 7101–7103 and torn down at the end. Every key of the queues and the rate
 * limiter must share the `{prefix}` hash tag (BullMQ's scripts touch several keys at once, which
 * a cluster refuses across slots), and an export and an import must run end to end.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { Cluster, Redis } from 'ioredis';
import { client, createTable, download, waitForJob } from '../../helpers/api.js';
import { NO_REDIS_SERVER, REDIS_URL, TEST_QUEUE_BACKEND } from '../../helpers/env.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { sleep } from '../../helpers/wait.js';

const PORTS = [7101, 7102, 7103];
const NODES = PORTS.map((p) => `127.0.0.1:${p}`);

/** A node answers PING (or the wait gives up after `ms`). */
async function waitForPing(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined); // not up yet: the loop tries again
    try {
      await r.connect();
      if ((await r.ping()) === 'PONG') return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`redis on ${port} did not start: ${(err as Error).message}`);
    } finally {
      r.disconnect();
    }
    await sleep(100);
  }
}

async function waitForClusterOk(ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const states = await Promise.all(
      PORTS.map(async (port) => {
        const r = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0 });
        try {
          return /cluster_state:ok/.test(String(await r.call('CLUSTER', 'INFO')));
        } finally {
          r.disconnect();
        }
      }),
    );
    if (states.every(Boolean)) return;
    if (Date.now() > until) throw new Error('the cluster did not reach cluster_state:ok');
    await sleep(200);
  }
}

/** Every key under `prefix:` on every master of the cluster. */
async function clusterKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (const port of PORTS) {
    const r = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0 });
    try {
      let cursor = '0';
      do {
        const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
    } finally {
      r.disconnect();
    }
  }
  return keys;
}

describe('Redis Cluster: queues, workers and the minute limit on a 3-node cluster', {
  skip: NO_REDIS_SERVER || (TEST_QUEUE_BACKEND === 'postgres' && 'a Redis Cluster is a Redis queue; this run queues in PostgreSQL'),
}, () => {
  let dir: string;
  const nodes: ChildProcess[] = [];
  let server: TestServer | undefined;
  let token: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tableport-cluster-'));
    for (const port of PORTS) {
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
      ];
      args.push('--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'warning');
      const p = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      nodes.push(p);
    }
    await Promise.all(PORTS.map((port) => waitForPing(port, 10_000)));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...NODES, '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(created.status, 0, `redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await waitForClusterOk(20_000);
    server = await startTestServer({ env: { REDIS_CLUSTER_NODES: NODES.join(',') } });
    ({ token } = await server.createUser());
  });

  after(async () => {
    await server?.close();
    await Promise.all(
      nodes.map(
        (p) =>
          new Promise<void>((res) => {
            if (p.exitCode !== null || p.signalCode !== null) return res();
            p.once('exit', () => res());
            p.kill('SIGTERM');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  });

  test('the queue prefix is a hash tag, and an export and an import run end to end through the cluster', async () => {
    assert.ok(server);
    const prefix = server.config.queuePrefix;
    assert.match(prefix, /^\{tptest-[0-9a-f]+\}$/);
    const c = client(server, token);
    const source = await createTable(server, token, 'cluster_orders');
    const rows = [
      { id: 'c1', created_at: 1000, title: 'plain', qty: 1 },
      { id: 'c2', created_at: 2000, title: 'comma, "quote"\nline', qty: -2 },
      { id: 'c3', created_at: 3000, title: '中文 🎉', qty: null },
    ];
    assert.equal((await c.post(`/oserve/v1/table/${source}/record/`).send(rows)).status, 201);

    const exp = await c.post(`/oserve/v1/table/${source}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(exp.status, 201, JSON.stringify(exp.body));
    // The table's minute is held in the cluster: a second export is refused.
    const again = await c.post(`/oserve/v1/table/${source}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(again.status, 400);
    assert.equal(again.body.error_code, 'too_frequent');
    const job = await waitForJob(server, token, exp.body.job_id, 30_000);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 3);
    const file = await download(job.file_url ?? '');
    assert.equal(file.status, 200);
    const lines = parse(file.body) as string[][];
    assert.deepEqual(
      lines.slice(1).map((l) => [l[0], l[1], l[4], l[5]]),
      [
        ['c1', '1000', 'plain', '1'],
        ['c2', '2000', 'comma, "quote"\nline', '-2'],
        ['c3', '3000', '中文 🎉', ''],
      ],
    );

    // The exported file imported into a second table gives the same rows.
    const target = await createTable(server, token, 'cluster_copy');
    const imp = await c.post(`/oserve/v1/table/${target}/import/`).attach('file', Buffer.from(file.body), 'orders.csv');
    assert.equal(imp.status, 201, JSON.stringify(imp.body));
    const impJob = await waitForJob(server, token, imp.body.job_id, 30_000);
    assert.equal(impJob.status, 'succeeded', JSON.stringify(impJob.errors));
    assert.equal(impJob.rows, 3);
    const listed = await c.get(`/oserve/v1/table/${target}/record/?limit=10&order_by=id`);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      (listed.body.objects as Array<{ id: string; title: string }>).map((o) => [o.id, o.title]),
      rows.map((r) => [r.id, r.title]),
    );

    // Both mails went out through the cluster's email queue.
    await server.smtp.waitForMessage((m) => m.text.includes(job.id) || (m.html ?? '').includes(job.id));
    await server.smtp.waitForMessage((m) => m.text.includes(impJob.id) || (m.html ?? '').includes(impJob.id));

    // Every key lies in the cluster under the hash tag, all on one slot; none went to the standalone Redis.
    const keys = await clusterKeys(prefix);
    assert.ok(
      keys.some((k) => k.includes(':rate:export:')),
      `rate limit key in the cluster: ${keys.join(' ')}`,
    );
    assert.ok(
      keys.some((k) => k.startsWith(`${prefix}:export:`)),
      'export queue keys in the cluster',
    );
    const cluster = new Cluster(NODES.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
    try {
      const slots = new Set(await Promise.all(keys.map(async (k) => Number(await cluster.call('CLUSTER', 'KEYSLOT', k)))));
      assert.equal(slots.size, 1, `keys on ${slots.size} slots`);
    } finally {
      cluster.disconnect();
    }
    const standalone = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const [, stray] = await standalone.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 10_000);
      assert.deepEqual(stray, []);
    } finally {
      standalone.disconnect();
    }
  });
});
