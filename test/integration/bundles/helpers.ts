/** Helpers for the bundle tests: tables with rows, a user's whole workspace as plain data. */
import type { Job, Table, TableRow } from '../../../src/types/api.js';
import { ALL_TYPES_SCHEMA, client, waitForJob } from '../../helpers/api.js';
import type { TestServer } from '../../helpers/server.js';

/** Orders: one field of every type, the shape the other suites use. */
export const ORDERS_SCHEMA = ALL_TYPES_SCHEMA;
export const NOTES_SCHEMA = { fields: [{ name: 'body', type: 'string', description: 'free text' }] };

export function orderRows(n: number, prefix = 'o'): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, k) => ({
    id: `${prefix}${String(k).padStart(5, '0')}`,
    created_at: 1_700_000_000 + k,
    title: k % 7 === 0 ? `北京 "quoted" \\ ,\n row ${k}` : `order ${k}`,
    qty: k % 5 === 0 ? null : k,
    price: k * 1.25,
    paid: k % 2 === 0,
    due: k % 3 === 0 ? null : `2024-05-0${(k % 9) + 1}T10:00:00.000Z`,
    tags: k % 4 === 0 ? [] : ['a', String(k)],
    meta: { k, nested: { ok: k % 2 === 0 } },
  }));
}

export async function makeTable(
  server: TestServer,
  token: string,
  name: string,
  schema: object,
  rows: Array<Record<string, unknown>>,
): Promise<number> {
  const c = client(server, token);
  const res = await c.post('/oserve/v1/table/').send({ name, schema });
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  const id = res.body.id as number;
  for (let i = 0; i < rows.length; i += 1000) {
    const r = await c.post(`/oserve/v1/table/${id}/record/`).send(rows.slice(i, i + 1000));
    if (r.status !== 201) throw new Error(`insert into ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return id;
}

export interface WorkspaceTable {
  schema: Table['schema'];
  rows: TableRow[];
}

/** Every table of the user by name, with its schema and every row (sorted by id). */
export async function workspace(server: TestServer, token: string): Promise<Record<string, WorkspaceTable>> {
  const c = client(server, token);
  const list = await c.get('/oserve/v1/table/?limit=1000');
  const out: Record<string, WorkspaceTable> = {};
  for (const t of list.body.objects as Table[]) {
    const rows: TableRow[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await c.get(`/oserve/v1/table/${t.id}/record/?limit=1000&offset=${offset}&order_by=created_at`);
      if (page.status !== 200) throw new Error(`rows of ${t.name}: ${page.status}`);
      rows.push(...(page.body.objects as TableRow[]));
      if (page.body.objects.length < 1000) break;
    }
    rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    out[t.name] = { schema: t.schema, rows };
  }
  return out;
}

/** Queues a bundle export, waits for it and returns the bundle's bytes. */
export async function exportBundle(server: TestServer, token: string, body: object = {}): Promise<{ job: Job; bytes: Buffer }> {
  const res = await client(server, token).post('/oserve/v1/data/export/').send(body);
  if (res.status !== 201) throw new Error(`bundle export: ${res.status} ${JSON.stringify(res.body)}`);
  const job = await waitForJob(server, token, res.body.job_id as string, 60_000);
  if (job.status !== 'succeeded' || !job.file_url) throw new Error(`bundle export failed: ${JSON.stringify(job.errors)}`);
  const file = await fetch(job.file_url);
  return { job, bytes: Buffer.from(await file.arrayBuffer()) };
}

/** Uploads a bundle as multipart `file`, waits for the job, returns it with the status endpoint's reply. */
export async function importBundle(
  server: TestServer,
  token: string,
  bytes: Buffer | string,
  query = '',
  fields: Record<string, string> = {},
): Promise<{ job: Job; status: { job_id: string; status: string; tables: Record<string, string> } }> {
  let req = client(server, token).post(`/oserve/v1/data/import/${query}`);
  for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
  const res = await req.attach('file', Buffer.from(bytes), 'bundle.json');
  if (res.status !== 201) throw new Error(`bundle import: ${res.status} ${JSON.stringify(res.body)}`);
  const job = await waitForJob(server, token, res.body.job_id as string, 60_000);
  const status = await client(server, token).get('/oserve/v1/data/import/status/');
  return { job, status: status.body };
}
