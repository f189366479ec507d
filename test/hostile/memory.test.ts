/**
 * The service under the production heap settings (`--max-old-space-size=256
 * --max-semi-space-size=8`, compiled JavaScript as `npm start` runs it, API and workers in one
 * process) takes the bursts that used to end in
 * "FATAL ERROR: Reached heap limit" and still answers `/healthz` afterwards: four concurrent
 * 31 MB JSON bodies, six concurrent 32 KB gzip bodies that inflate to 31 MB, eight concurrent
 * 1,000-row pages of 31 KB rows.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { UsersRepository } from '../../src/db/repositories/users.repository.js';
import { UsersService } from '../../src/services/users.service.js';
import { PG_ADMIN_URL, REDIS_URL, databaseUrlFor } from '../helpers/env.js';
import { freePort } from '../helpers/ports.js';
import { dropRedisPrefix } from '../helpers/redis.js';
import { sleep } from '../helpers/wait.js';

// TABLEPORT_TEST_BIN: run the same bursts against another build (e.g. an older release, to see it fail).
const BIN = process.env.TABLEPORT_TEST_BIN ?? fileURLToPath(new URL('../../bin/tableport.js', import.meta.url));
const ROW_TEXT = 31 * 1024;
/**
 * A body the server refuses early (413) is cut off: the server answers and closes, and the client,
 * still writing megabytes, can get EPIPE or ECONNRESET before it has read the answer. `send`
 * reports that as CUT_OFF, only for requests with a body; it is a refusal, never a crash (the
 * process and /healthz are checked after every burst).
 */
const CUT_OFF = -1;
const ACCEPTED = new Set([200, 201, 400, 413, 503, CUT_OFF]);

/** One request with a body; a connection the server closes after answering early is not an error. */
function send(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const req = request(url, { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => resolve(status));
      res.on('error', () => resolve(status));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (status) resolve(status);
      else if (body && (err.code === 'EPIPE' || err.code === 'ECONNRESET')) resolve(CUT_OFF);
      else reject(err);
    });
    req.end(body);
  });
}

describe('memory under the production heap cap', () => {
  let child: ChildProcess;
  let out = '';
  let base = '';
  let token = '';
  let tableId = 0;
  const name = `tableport_mem_${randomBytes(4).toString('hex')}`;
  const prefix = `tptest-mem-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'tableport-mem-'));

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['--max-old-space-size=256', '--max-semi-space-size=8', BIN, 'all'], {
      env: {
        ...process.env,
        PORT: String(port),
        DATABASE_URL: databaseUrlFor(name),
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        STORAGE_DIR: join(dir, 'files'),
        DATA_DIR: join(dir, 'data'),
        MAIL_OUTBOX_DIR: join(dir, 'outbox'),
        SIGNING_SECRET: randomBytes(24).toString('hex'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const until = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${base}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (child.exitCode !== null || Date.now() > until) throw new Error(`the service did not start:\n${out}`);
      await sleep(200);
    }
    const pool = createPool(databaseUrlFor(name), { max: 1 });
    ({ token } = await new UsersService(new UsersRepository(pool)).addUserWithToken({
      email: 'mem@example.com',
      name: null,
      locale: null,
    }));
    const res = await fetch(`${base}/oserve/v1/table/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'big', schema: { fields: [{ name: 'body', type: 'string' }] } }),
    });
    tableId = ((await res.json()) as { id: number }).id;
    await pool.query(
      `INSERT INTO tableport_data.t_${tableId} (id, created_at, updated_at, body) SELECT 'r' || g, g, g, repeat(md5(g::text), ${ROW_TEXT / 32}) FROM generate_series(1, 1000) g`,
    );
    await pool.end();
  });

  after(async () => {
    child?.kill('SIGKILL');
    await dropRedisPrefix(REDIS_URL, prefix);
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  async function stillUp(what: string, statuses: number[]): Promise<void> {
    for (const s of statuses) assert.ok(ACCEPTED.has(s), `${what}: answered ${s}; ${statuses.join(',')}`);
    assert.equal(child.exitCode, null, `${what}: the process died:\n${out.slice(-2000)}`);
    assert.doesNotMatch(out, /heap limit|JavaScript heap out of memory/);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  }

  it('four concurrent 31 MB JSON bodies', async () => {
    const body = Buffer.from(JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ body: String(i).padEnd(ROW_TEXT, 'x') }))));
    const url = `${base}/oserve/v1/table/${tableId}/record/`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const statuses = await Promise.all(Array.from({ length: 4 }, () => send(url, 'POST', headers, body)));
    await stillUp('31 MB bodies', statuses);
    assert.ok(
      statuses.every((s) => s === 413 || s === 503 || s === CUT_OFF),
      statuses.join(','),
    );
  });

  it('six concurrent 32 KB gzip bodies that inflate to 31 MB', async () => {
    const body = gzipSync(JSON.stringify(Array.from({ length: 1000 }, () => ({ body: 'x'.repeat(ROW_TEXT) }))), { level: 9 });
    assert.ok(body.length < 64 * 1024);
    const url = `${base}/oserve/v1/table/${tableId}/record/`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' };
    const statuses = await Promise.all(Array.from({ length: 6 }, () => send(url, 'POST', headers, body)));
    await stillUp('gzip bodies', statuses);
    assert.ok(
      statuses.every((s) => s === 413 || s === 503 || s === CUT_OFF),
      statuses.join(','),
    );
  });

  it('eight concurrent pages of 1,000 rows of 31 KB', async () => {
    const url = `${base}/oserve/v1/table/${tableId}/record/?limit=1000`;
    const statuses = await Promise.all(Array.from({ length: 8 }, () => send(url, 'GET', { authorization: `Bearer ${token}` })));
    await stillUp('record pages', statuses);
    assert.ok(statuses.includes(503), `the concurrency bound covers record pages: ${statuses.join(',')}`);
  });

  it('all of it at once, twice', async () => {
    const big = Buffer.from(JSON.stringify(Array.from({ length: 1000 }, () => ({ body: 'y'.repeat(ROW_TEXT) }))));
    const gz = gzipSync(big, { level: 9 });
    const rec = `${base}/oserve/v1/table/${tableId}/record/`;
    const auth = { authorization: `Bearer ${token}` };
    for (let round = 0; round < 2; round++) {
      const statuses = await Promise.all([
        ...Array.from({ length: 4 }, () => send(rec, 'POST', { ...auth, 'content-type': 'application/json' }, big)),
        ...Array.from({ length: 6 }, () =>
          send(rec, 'POST', { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' }, gz),
        ),
        ...Array.from({ length: 8 }, () => send(`${rec}?limit=1000`, 'GET', auth)),
      ]);
      await stillUp(`round ${round}`, statuses);
    }
  });
});
