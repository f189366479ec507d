import request from 'supertest';
import type { Job } from '../../src/types/api.js';
import type { TestServer } from './server.js';
import { waitFor } from './wait.js';

/** supertest bound to a server and a token. */
export function client(server: TestServer, token: string) {
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
  const agent = request(server.baseUrl);
  return {
    get: (path: string) => auth(agent.get(path)),
    post: (path: string) => auth(agent.post(path)),
    put: (path: string) => auth(agent.put(path)),
    patch: (path: string) => auth(agent.patch(path)),
    delete: (path: string) => auth(agent.delete(path)),
  };
}

export async function waitForJob(server: TestServer, token: string, jobId: string, timeoutMs = 20_000): Promise<Job> {
  const c = client(server, token);
  return waitFor(
    `job ${jobId} to end`,
    async () => {
      const res = await c.get(`/oserve/v1/jobs/${jobId}`);
      if (res.status !== 200) throw new Error(`job ${jobId}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      const job = res.body as Job;
      return job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled' ? job : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** A table with one field of every type, the shape most tests use. */
export const ALL_TYPES_SCHEMA = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
    { name: 'price', type: 'number' },
    { name: 'paid', type: 'boolean' },
    { name: 'due', type: 'date' },
    { name: 'tags', type: 'array' },
    { name: 'meta', type: 'object' },
  ],
} as const;

export async function createTable(server: TestServer, token: string, name: string, schema: object = ALL_TYPES_SCHEMA): Promise<number> {
  const res = await client(server, token).post('/oserve/v1/table/').send({ name, schema });
  if (res.status !== 201) throw new Error(`create table: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as number;
}

/** Fetches a URL as a user without a token would (the signed link). */
export async function download(url: string): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), headers: res.headers };
}
