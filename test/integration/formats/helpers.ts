/** Shared steps of the format tests: export a table to bytes, import bytes into a new table. */
import assert from 'node:assert/strict';
import type { Job } from '../../../src/types/api.js';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import type { TestServer } from '../../helpers/server.js';
import { defined } from '../../helpers/defined.js';

/** Rows no simple writer gets right: delimiters, quotes, line breaks, CJK and emoji, '' vs null, 2^53-1, nesting. */
export const AWKWARD_ROWS = [
  {
    id: 'a',
    created_at: 10,
    title: 'x, "y"; z|w\r\nnext\tline',
    qty: 9007199254740991,
    price: 12.34567,
    paid: true,
    due: '2020-02-29T23:59:59.123Z',
    tags: ['1', 2, null],
    meta: { a: { b: [] }, s: "it's" },
  },
  { id: 'b', created_at: 20, title: '', qty: -9007199254740991, price: 1e-7, paid: false, due: null, tags: [], meta: {} },
  { id: 'c', created_at: 30, title: null, qty: 0, price: null, paid: null, due: '1970-01-01T00:00:00.000Z', tags: null, meta: null },
  {
    id: 'd',
    created_at: 40,
    title: "中文 🎉 back\\slash \\N 'quote'",
    qty: 1,
    price: -0.5,
    paid: true,
    due: null,
    tags: [''],
    meta: { '': '', 'k"': '中' },
  },
];

let n = 0;
export function uniqueName(prefix: string): string {
  return `${prefix}_${++n}_${Date.now() % 100000}`;
}

export async function rowsOf(server: TestServer, token: string, tableId: number): Promise<Array<Record<string, unknown>>> {
  const res = await client(server, token).get(`/oserve/v1/table/${tableId}/record/?limit=1000`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body.objects as Array<Record<string, unknown>>).sort((x, y) => String(x.id).localeCompare(String(y.id)));
}

/** A new table holding `rows`. */
export async function tableWith(server: TestServer, token: string, rows: object[], schema?: object): Promise<number> {
  const t = await createTable(server, token, uniqueName('src'), schema);
  if (rows.length) {
    const res = await client(server, token).post(`/oserve/v1/table/${t}/record/`).send(rows);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  return t;
}

/** Exports a table and downloads the file. */
export async function exportBytes(
  server: TestServer,
  token: string,
  tableId: number,
  body: object,
): Promise<{ job: Job; bytes: Buffer; contentType: string }> {
  const res = await client(server, token)
    .post(`/oserve/v1/table/${tableId}/export/`)
    .send({ mode: 'all', ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const job = await waitForJob(server, token, res.body.job_id);
  assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
  const file = await fetch(defined(job.file_url, 'job.file_url'));
  assert.equal(file.status, 200);
  return { job, bytes: Buffer.from(await file.arrayBuffer()), contentType: file.headers.get('content-type') ?? '' };
}

/** Uploads bytes into a table (a new one unless given) and waits for the job. */
export async function importBytes(
  server: TestServer,
  token: string,
  bytes: Buffer | string,
  opts: { name?: string; tableId?: number; schema?: object; fields?: Record<string, string> } = {},
): Promise<{ job: Job; tableId: number }> {
  const tableId = opts.tableId ?? (await createTable(server, token, uniqueName('dst'), opts.schema));
  let req = client(server, token).post(`/oserve/v1/table/${tableId}/import/`);
  for (const [k, v] of Object.entries(opts.fields ?? {})) req = req.field(k, v);
  const res = await req.attach('file', Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), opts.name ?? 'upload');
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { job: await waitForJob(server, token, res.body.job_id), tableId };
}
