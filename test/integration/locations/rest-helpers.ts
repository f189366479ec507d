/**
 * For the tests of locations through the REST and SQL endpoints: a tableport whose log lines are
 * kept, every reply kept, and one check that no secret appears in any reply, email or log line.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startTestServer, type TestServer, type TestServerOptions } from '../../helpers/server.js';
import { waitFor } from '../../helpers/wait.js';
import type { Job } from '../../../src/types/api.js';

export interface LocationServer {
  server: TestServer;
  token: string;
  email: string;
  exportDir: string;
  importDir: string;
  /** Every log line the service wrote (LOG_LEVEL=debug). */
  logs: string[];
  /** Every reply body the tests received through `call`. */
  replies: string[];
  call(method: 'get' | 'post', path: string, body?: unknown): Promise<request.Response>;
  /** POSTs a task, moving the server's clock past the table's minute (TASK_INTERVAL_SECONDS=1 here) when it is taken. */
  task(path: string, body: unknown): Promise<request.Response>;
  waitForJob(jobId: string, timeoutMs?: number): Promise<Job>;
  /** Fails naming where a secret appears: a reply, a mail or a log line. */
  assertNoSecrets(secrets: string[]): void;
  close(): Promise<void>;
}

export async function startLocationServer(allowHosts: string[], opts: TestServerOptions = {}): Promise<LocationServer> {
  const dirs = await mkdtemp(join(tmpdir(), 'tableport-locs-'));
  const exportDir = join(dirs, 'exports');
  const importDir = join(dirs, 'imports');
  const logs: string[] = [];
  const replies: string[] = [];
  const server = await startTestServer({
    ...opts,
    env: {
      LOG_LEVEL: 'debug',
      EXPORT_DIR: exportDir,
      IMPORT_DIR: importDir,
      OUTBOUND_ALLOW_HOSTS: allowHosts.join(','),
      TASK_INTERVAL_SECONDS: '1',
      JOB_ATTEMPTS: '1',
      ...opts.env,
    },
    logTo: { write: (line: string) => void logs.push(line) },
  });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(exportDir, { recursive: true });
  await mkdir(importDir, { recursive: true });
  const { token, email } = await server.createUser(undefined, { name: 'Ada' });
  const agent = request(server.baseUrl);
  const call = async (method: 'get' | 'post', path: string, body?: unknown): Promise<request.Response> => {
    let r = agent[method](path).set('Authorization', `Bearer ${token}`);
    if (body !== undefined) r = r.send(body as object);
    const res = await r;
    replies.push(`${method.toUpperCase()} ${path} → ${res.status} ${res.text}`);
    return res;
  };
  return {
    server,
    token,
    email,
    exportDir,
    importDir,
    logs,
    replies,
    call,
    async task(path, body) {
      for (let i = 0; ; i++) {
        const res = await call('post', path, body);
        if (res.body?.error_code !== 'too_frequent' || i >= 5) return res;
        server.clock.advance(1000 * Number(res.body.retry_after ?? 1));
      }
    },
    waitForJob: (jobId, timeoutMs = 30_000) =>
      waitFor(
        `job ${jobId} to end`,
        async () => {
          const res = await call('get', `/oserve/v1/jobs/${jobId}`);
          assert.equal(res.status, 200, res.text);
          const job = res.body as Job;
          return job.status === 'succeeded' || job.status === 'failed' ? job : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      ),
    assertNoSecrets(secrets) {
      const places: Array<[string, string]> = [
        ...replies.map((r): [string, string] => ['reply', r]),
        ...server.smtp.messages.map((m): [string, string] => ['mail', `${m.subject}\n${m.text}\n${m.html}\n${m.raw.toString()}`]),
        ...logs.map((l): [string, string] => ['log line', l]),
      ];
      for (const secret of secrets) {
        const hit = places.find(([, text]) => text.includes(secret));
        assert.equal(hit, undefined, `a secret appears in a ${hit?.[0]}: ${hit?.[1].slice(0, 300)}`);
      }
    },
    async close() {
      await server.close();
      await rm(dirs, { recursive: true, force: true });
    },
  };
}

/** A mail about `jobId` (its id or link is in the text). */
export function mailAbout(s: LocationServer, jobId: string) {
  return s.server.smtp.waitForMessage((m) => m.text.includes(jobId) || m.html.includes(jobId) || m.subject.includes(jobId), 20_000);
}
