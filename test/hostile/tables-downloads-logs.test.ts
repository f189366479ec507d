/**
 * Table deletion against a running COPY, downloads of a deleted table's export, a full disk, and
 * the request log (request id, redaction, one quiet line for a download closed early).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTable, download, waitForJob } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Tally, assertUp, expectRefused, multipart, raw } from './hostile-helpers.js';
import { sleep } from '../helpers/wait.js';

const json = { 'content-type': 'application/json' };

describe('tables, downloads and the request log', () => {
  let server: TestServer;
  let token: string;
  const logs: string[] = [];
  const tally = new Tally();
  const entries = () => logs.map((l) => JSON.parse(l) as Record<string, unknown>);

  before(async () => {
    server = await startTestServer({ env: { DB_LOCK_TIMEOUT_MS: '300', LOG_LEVEL: 'debug' }, logTo: { write: (l) => void logs.push(l) } });
    ({ token } = await server.createUser());
  });
  after(async () => {
    console.log(tally.summary('hostile tables, downloads and logs'));
    assert.equal(tally.crashes, 0);
    await server?.close();
  });

  async function exportedTable(name: string, rows: number): Promise<{ tableId: number; fileUrl: string }> {
    const tableId = await createTable(server, token, name);
    await server.db.query(
      `INSERT INTO tableport_data.t_${tableId} (id, created_at, updated_at, title) SELECT 'r' || g, 1, 1, repeat('x', 200) FROM generate_series(1, $1) g`,
      [rows],
    );
    const res = await raw(server, 'POST', `/oserve/v1/table/${tableId}/export/`, {
      token,
      headers: json,
      body: '{"file_type": "csv", "mode": "all"}',
    });
    assert.equal(res.status, 201, res.text);
    const job = await waitForJob(server, token, res.body.job_id as string);
    assert.equal(job.status, 'succeeded');
    return { tableId, fileUrl: job.file_url as string };
  }

  it('DELETE of a table that a COPY is reading is 409 table_busy, and readers are not blocked behind it', async () => {
    const tableId = await createTable(server, token, 'busy');
    const holder = await server.db.connect();
    try {
      // What a running export holds on the data table.
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE tableport_data.t_${tableId} IN ACCESS SHARE MODE`);
      const del = await raw(server, 'DELETE', `/oserve/v1/table/${tableId}/`, { token });
      expectRefused(tally, 'delete during COPY', del, 409, 'table_busy');
      const read = await raw(server, 'GET', `/oserve/v1/table/${tableId}/record/`, { token });
      assert.equal(read.status, 200);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    assert.equal((await raw(server, 'GET', `/oserve/v1/table/${tableId}/`, { token })).status, 200, 'the table is still there');
    assert.equal((await raw(server, 'DELETE', `/oserve/v1/table/${tableId}/`, { token })).status, 204);
  });

  it("a deleted table's export is no longer downloadable, even with a valid link", async () => {
    const { tableId, fileUrl } = await exportedTable('gone', 3);
    assert.equal((await download(fileUrl)).status, 200);
    assert.equal((await raw(server, 'DELETE', `/oserve/v1/table/${tableId}/`, { token })).status, 204);
    const res = await fetch(fileUrl);
    const body = (await res.json()) as Record<string, unknown>;
    tally.record('download after delete', res);
    assert.equal(res.status, 410);
    assert.equal(body.error_code, 'table_deleted');
  });

  it('one info line per request with a request id echoed back; signature and token never logged', async () => {
    const { fileUrl } = await exportedTable('logged', 1);
    const signature = new URL(fileUrl).searchParams.get('signature') ?? '';
    assert.ok(signature.length > 10);
    const mine = await fetch(fileUrl, { headers: { 'x-request-id': 'trace-42.abc' } });
    await mine.arrayBuffer();
    assert.equal(mine.headers.get('x-request-id'), 'trace-42.abc');
    const forged = await fetch(`${server.baseUrl}/healthz`, { headers: { 'x-request-id': 'a\u00e9 b'.repeat(3) } });
    assert.match(forged.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'an unsafe id is replaced');
    await raw(server, 'GET', '/oserve/v1/table/', { token });
    await sleep(50);
    const all = logs.join('\n');
    assert.ok(!all.includes(signature), 'the link signature reached the log');
    assert.ok(!all.includes(token), 'the API token reached the log');
    const line = entries().find((e) => (e.req as { id?: string } | undefined)?.id === 'trace-42.abc');
    assert.ok(line, 'a line for the request, with its id');
    assert.equal(line.level, 30);
    assert.match(String((line.req as { url: string }).url), /signature=\[REDACTED\]/);
  });

  it('a download the client closes early is a debug line without a stack, not an error', async () => {
    const { fileUrl } = await exportedTable('closed', 40_000); // ~9 MB: more than the socket buffers hold
    const before_ = logs.length;
    await new Promise<void>((resolve, reject) => {
      const req = request(fileUrl, (res) => {
        res.once('data', () => {
          req.destroy();
          setTimeout(resolve, 300);
        });
      });
      req.on('error', () => undefined);
      req.end();
      setTimeout(() => reject(new Error('no data')), 10_000);
    });
    const fresh = logs.slice(before_).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(
      !fresh.some((e) => (e.level as number) >= 50),
      `error lines: ${fresh
        .filter((e) => (e.level as number) >= 50)
        .map((e) => e.msg)
        .join(', ')}`,
    );
    assert.ok(fresh.some((e) => e.msg === 'download closed early by the client' && e.level === 20));
    await assertUp(server, token);
  });

  it('a full disk during an upload is 507 insufficient_storage, and the service stays up', async (t) => {
    const mnt = mkdtempSync(join(tmpdir(), 'tableport-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      rmSync(mnt, { recursive: true, force: true });
      t.skip('cannot mount a tmpfs here (needs root); test/unit/hostile covers the mapping with /dev/full');
      return;
    }
    const small = await startTestServer({ env: { STORAGE_DIR: mnt } });
    try {
      const { token: tk } = await small.createUser();
      const tableId = await createTable(small, tk, 'full');
      const { body, type } = multipart('big.csv', `title\n${'x'.repeat(100).concat('\n').repeat(5000)}`);
      const res = await raw(small, 'POST', `/oserve/v1/table/${tableId}/import/`, { token: tk, headers: { 'content-type': type }, body });
      expectRefused(tally, 'upload to a full disk', res, 507, 'insufficient_storage');
      await assertUp(small, tk);
    } finally {
      await small.close();
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});
