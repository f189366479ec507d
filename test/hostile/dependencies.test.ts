/**
 * The API when Redis or PostgreSQL is away: it answers `503 service_unavailable` with
 * `Retry-After` instead of hanging, `/healthz` says which dependency is down, and it recovers by
 * itself. Start-up names the unreachable address once (no credentials) and retries quietly.
 * Uses a Redis and a PostgreSQL of its own (ports 6396-6399, 5446-5449), never the shared ones.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import { UsersRepository } from '../../src/db/repositories/users.repository.js';
import { createLogger } from '../../src/logger.js';
import { start } from '../../src/main.js';
import { UsersService } from '../../src/services/users.service.js';
import { createTable } from '../helpers/api.js';
import { PG_ADMIN_URL, REDIS_URL, databaseUrlFor } from '../helpers/env.js';
import { dropRedisPrefix } from '../helpers/redis.js';
import { startTestServer } from '../helpers/server.js';
import { Tally, expectRefused, multipart, raw } from './hostile-helpers.js';
import { OwnPostgres, OwnRedis } from './own-servers.js';
import { freePort } from '../helpers/ports.js';
import { sleep } from '../helpers/wait.js';

const BIN = fileURLToPath(new URL('../../bin/tableport.js', import.meta.url));
const json = { 'content-type': 'application/json' };
const tally = new Tally();

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('the API while a dependency is down', () => {
  after(() => {
    console.log(tally.summary('hostile dependencies'));
  });

  it('Redis down: export and import are 503 with Retry-After, /healthz names redis, and it recovers', async () => {
    const redis = new OwnRedis(6396);
    await redis.start();
    const server = await startTestServer({ env: { REDIS_URL: 'redis://127.0.0.1:6396' } });
    try {
      const { token } = await server.createUser();
      const tableId = await createTable(server, token, 'r');
      await redis.kill();
      const exp = await raw(server, 'POST', `/oserve/v1/table/${tableId}/export/`, {
        token,
        headers: json,
        body: '{"file_type":"csv","mode":"all"}',
      });
      expectRefused(tally, 'export, redis down', exp, 503, 'service_unavailable');
      assert.ok(Number(exp.headers.get('retry-after')) > 0);
      const { body, type } = multipart('a.csv', 'title\nx\n');
      const imp = await raw(server, 'POST', `/oserve/v1/table/${tableId}/import/`, { token, headers: { 'content-type': type }, body });
      expectRefused(tally, 'import, redis down', imp, 503, 'service_unavailable');
      const health = await raw(server, 'GET', '/healthz');
      assert.equal(health.status, 503);
      assert.deepEqual(health.body, { status: 'unavailable', postgres: 'ok', redis: 'down' });
      // What needs only PostgreSQL still works.
      assert.equal((await raw(server, 'GET', `/oserve/v1/table/${tableId}/`, { token })).status, 200);
      const jobs = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tableport.jobs');
      assert.equal(jobs.rows[0]?.n, 0, 'no job row left behind by a refused request');
      await redis.start();
      await until('an export once Redis is back', async () => {
        const r = await raw(server, 'POST', `/oserve/v1/table/${tableId}/export/`, {
          token,
          headers: json,
          body: '{"file_type":"csv","mode":"all"}',
        });
        return r.status === 201 ? r : undefined;
      });
    } finally {
      await redis.start().catch(() => undefined);
      await server.close();
      await redis.kill();
    }
  });

  it('PostgreSQL down: requests are 503 with Retry-After, /healthz names postgres, and it recovers', {
    skip: !OwnPostgres.available(),
  }, async () => {
    const own = new OwnPostgres(5446);
    await own.init();
    const dir = mkdtempSync(join(tmpdir(), 'tableport-dep-'));
    const prefix = `tptest-dep-${randomBytes(4).toString('hex')}`;
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: own.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      STORAGE_DIR: join(dir, 'files'),
      DATA_DIR: join(dir, 'data'),
      SIGNING_SECRET: randomBytes(24).toString('hex'),
    });
    const running = await start(config, ['api'], createLogger('silent'));
    const srv = { baseUrl: running.url as string } as Parameters<typeof raw>[0];
    try {
      const pool = createPool(own.url, { max: 1 });
      const { token } = await new UsersService(new UsersRepository(pool)).addUserWithToken({
        email: 'pg@example.com',
        name: null,
        locale: null,
      });
      await pool.end();
      const created = await raw(srv, 'POST', '/oserve/v1/table/', {
        token,
        headers: json,
        body: JSON.stringify({ name: 't', schema: { fields: [{ name: 'a', type: 'string' }] } }),
      });
      assert.equal(created.status, 201);
      await own.stop();
      for (const [method, path, body] of [
        ['GET', '/oserve/v1/table/', undefined],
        ['POST', `/oserve/v1/table/${created.body.id}/export/`, '{"file_type":"csv","mode":"all"}'],
        ['POST', `/oserve/v1/table/${created.body.id}/record/`, '{"a":"x"}'],
      ] as const) {
        const res = await raw(srv, method, path, { token, headers: json, ...(body ? { body } : {}) });
        expectRefused(tally, `${method} ${path}, postgres down`, res, 503, 'service_unavailable');
        assert.ok(Number(res.headers.get('retry-after')) > 0);
      }
      const health = await raw(srv, 'GET', '/healthz');
      assert.equal(health.status, 503);
      assert.deepEqual(health.body, { status: 'unavailable', postgres: 'down', redis: 'ok' });
      await own.start();
      await until('a read once PostgreSQL is back', async () => {
        const r = await raw(srv, 'GET', '/oserve/v1/table/', { token });
        return r.status === 200 ? r : undefined;
      });
    } finally {
      await running.close();
      await own.destroy();
      await dropRedisPrefix(REDIS_URL, prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('start-up names the unreachable PostgreSQL and Redis once, without credentials, then retries quietly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tableport-boot-'));
    const name = `tableport_boot_${randomBytes(4).toString('hex')}`;
    const runFor = async (env: Record<string, string>, waitFor: RegExp, port?: number) => {
      const child = spawn(process.execPath, [BIN, 'all'], {
        env: {
          ...process.env,
          PORT: String(port ?? 0),
          STORAGE_DIR: join(dir, 'files'),
          DATA_DIR: join(dir, 'data'),
          LOG_LEVEL: 'info',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      try {
        await until(`${waitFor}`, async () => (waitFor.test(out) ? true : undefined), 30_000);
        // Let the retries run a while: they must stay quiet.
        await sleep(3000);
        return out;
      } finally {
        child.kill('SIGKILL');
      }
    };
    try {
      const pgOut = await runFor(
        { DATABASE_URL: 'postgres://alice:pg-secret-pw@127.0.0.1:5447/shop', REDIS_URL: 'redis://127.0.0.1:6397' },
        /cannot reach PostgreSQL/,
      );
      assert.equal(pgOut.match(/cannot reach PostgreSQL at 127\.0\.0\.1:5447\/shop/g)?.length, 1, pgOut);
      assert.ok(!pgOut.includes('pg-secret-pw') && !pgOut.includes('alice'), 'credentials in the log');
      assert.ok(pgOut.trim().split('\n').length <= 3, `noisy:\n${pgOut}`);

      const port = await freePort();
      const redisOut = await runFor(
        { DATABASE_URL: databaseUrlFor(name), REDIS_URL: 'redis://:redis-secret-pw@127.0.0.1:6397' },
        /api listening/,
        port,
      );
      assert.equal(redisOut.match(/cannot reach Redis at redis:\/\/127\.0\.0\.1:6397/g)?.length, 1, redisOut);
      assert.ok(!redisOut.includes('redis-secret-pw'), 'credentials in the log');
      assert.ok(!/ECONNREFUSED.*\n.*ECONNREFUSED.*\n.*ECONNREFUSED/.test(redisOut), `noisy:\n${redisOut}`);
      assert.ok(redisOut.trim().split('\n').length <= 8, `noisy:\n${redisOut}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
