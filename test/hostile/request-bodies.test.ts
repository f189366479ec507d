/**
 * Hostile request bodies and parameters against the API: each is refused with a 4xx, a stable
 * `error_code` and a sentence, the service stays up, and nothing is written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createTable } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Tally, assertUp, expectRefused, raw, snapshot } from './hostile-helpers.js';
import { sleep } from '../helpers/wait.js';

const KIB = 1024;
const json = { 'content-type': 'application/json' };

describe('hostile request bodies and parameters', () => {
  let server: TestServer;
  let token: string;
  let tableId: number;
  let before_: string;
  const tally = new Tally();
  const records = () => `/oserve/v1/table/${tableId}/record/`;

  before(async () => {
    server = await startTestServer({
      env: { BODY_MAX_BYTES: String(1024 * KIB), MAX_CELL_BYTES: String(64 * KIB), HEAVY_REQUEST_CONCURRENCY: '1' },
    });
    ({ token } = await server.createUser());
    tableId = await createTable(server, token, 'orders');
    const seed = await raw(server, 'POST', `/oserve/v1/table/${tableId}/record/`, {
      token,
      headers: json,
      body: JSON.stringify({ title: 'seed', tags: [1] }),
    });
    assert.equal(seed.status, 201);
    before_ = await snapshot(server);
  });
  after(async () => {
    console.log(tally.summary('hostile request bodies'));
    assert.equal(tally.crashes, 0);
    await server?.close();
  });

  async function unchanged() {
    await assertUp(server, token);
    assert.equal(await snapshot(server), before_, 'a refused input changed rows, jobs or files');
  }

  it('a body over BODY_MAX_BYTES is 413 payload_too_large, as sent or once inflated', async () => {
    const rows = Array.from({ length: 40 }, () => ({ title: 'x'.repeat(31 * KIB) }));
    const big = JSON.stringify(rows);
    expectRefused(
      tally,
      'JSON body 1.2 MiB',
      await raw(server, 'POST', records(), { token, headers: json, body: big }),
      413,
      'payload_too_large',
    );
    // 32 KB on the wire, 31 MB inflated: the limit counts the inflated bytes.
    const bomb = gzipSync(Buffer.from(JSON.stringify([{ title: 'a'.repeat(31 * 1024 * KIB) }])), { level: 9 });
    assert.ok(bomb.length < 64 * KIB);
    const res = await raw(server, 'POST', records(), { token, headers: { ...json, 'content-encoding': 'gzip' }, body: bomb });
    expectRefused(tally, 'gzip bomb', res, 413, 'payload_too_large');
    await unchanged();
  });

  it('broken or unsupported encodings and broken JSON are 400 invalid_parameter', async () => {
    const cases: Array<[string, Record<string, string>, Buffer | string]> = [
      ['gzip header, plain body', { ...json, 'content-encoding': 'gzip' }, '{"title": "x"}'],
      ['truncated gzip', { ...json, 'content-encoding': 'gzip' }, gzipSync('{"title": "x"}').subarray(0, 12)],
      ['unknown encoding', { ...json, 'content-encoding': 'x-hostile' }, '{"title": "x"}'],
      ['not JSON', json, '{"title": '],
      ['latin1 charset', { 'content-type': 'application/json; charset=ebcdic' }, '{"title": "x"}'],
    ];
    for (const [what, headers, body] of cases) {
      const res = await raw(server, 'POST', records(), { token, headers, body });
      tally.record(what, res);
      assert.ok(res.status === 400 || res.status === 415, `${what}: ${res.status} ${res.text}`);
      assert.equal(res.body.error_code, 'invalid_parameter', `${what}: ${res.text}`);
    }
    await unchanged();
  });

  it('a row nested 5,000 levels deep is 400, not a 500', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    for (const body of [`{"tags": ${deep}}`, `[{"tags": ${deep}}]`, deep, `{"meta": ${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`]) {
      expectRefused(
        tally,
        'deep row',
        await raw(server, 'POST', records(), { token, headers: json, body }),
        400,
        'invalid_parameter',
        'body',
      );
    }
    // Nested within MAX_JSON_DEPTH is fine: the limit is not in the way of real data.
    const ok = await raw(server, 'POST', records(), { token, headers: json, body: `{"tags": ${'['.repeat(30)}1${']'.repeat(30)}}` });
    assert.equal(ok.status, 201, ok.text);
    await server.db.query(`DELETE FROM tableport_data.t_${tableId} WHERE id = $1`, [ok.body.id]);
    await unchanged();
  });

  it('a number no double can hold ([1e400]) is refused naming the field, never stored as null', async () => {
    const cases: Array<[string, string]> = [
      ['tags', '{"tags": [1e400]}'],
      ['tags', '{"tags": [1, -1e999]}'],
      ['meta', '{"meta": {"a": {"b": 1e400}}}'],
      ['[0].tags', '[{"tags": [1e400]}]'],
      ['price', '{"price": 1e400}'],
      ['tags', `{"tags": [1${'0'.repeat(400)}]}`],
    ];
    for (const [field, body] of cases) {
      const res = await raw(server, 'POST', records(), { token, headers: json, body });
      expectRefused(tally, `huge number ${body}`, res, 400, 'invalid_parameter', field);
    }
    await unchanged();
  });

  it('a cell over MAX_CELL_BYTES is 400 naming the field', async () => {
    const big = 'é'.repeat(40 * KIB); // 80 KiB of UTF-8 in 40 Ki characters
    for (const [field, row] of [
      ['title', { title: big }],
      ['tags', { tags: [big] }],
      ['meta', { meta: { a: big } }],
    ] as const) {
      const res = await raw(server, 'POST', records(), { token, headers: json, body: JSON.stringify(row) });
      expectRefused(tally, `big cell ${field}`, res, 400, 'invalid_parameter', field);
      assert.match(res.body.error_msg as string, /MAX_CELL_BYTES/);
    }
    await unchanged();
  });

  it('fields named after PostgreSQL system columns are refused at table creation', async () => {
    for (const name of ['xmin', 'ctid', 'tableoid', 'cmin', 'cmax', 'xmax', 'oid', 'XMIN']) {
      const res = await raw(server, 'POST', '/oserve/v1/table/', {
        token,
        headers: json,
        body: JSON.stringify({ name: `t_${name}`, schema: { fields: [{ name, type: 'string' }] } }),
      });
      expectRefused(tally, `field ${name}`, res, 400, 'invalid_parameter', 'schema.fields[0].name');
    }
    await unchanged();
  });

  it('huge offsets and limits are 400 invalid_parameter on every page', async () => {
    for (const path of [records(), '/oserve/v1/table/', '/oserve/v1/jobs/', `/oserve/v1/table/${tableId}/export/`]) {
      for (const q of ['offset=99999999999999999999', 'limit=99999999999999999999', 'offset=9007199254740993', 'limit=-1', 'offset=1e3']) {
        const res = await raw(server, 'GET', `${path}?${q}`, { token });
        expectRefused(tally, `${path}?${q}`, res, 400, 'invalid_parameter', q.split('=')[0]);
      }
    }
    await unchanged();
  });

  it('export bounds that are clearly milliseconds are refused naming the parameter', async () => {
    const path = `/oserve/v1/table/${tableId}/export/`;
    for (const body of [
      { file_type: 'csv', mode: 'part', start: 1700000000000 },
      { file_type: 'csv', mode: 'part', end: '1700000000000' },
    ]) {
      const res = await raw(server, 'POST', path, { token, headers: json, body: JSON.stringify(body) });
      expectRefused(tally, `millis ${JSON.stringify(body)}`, res, 400, 'invalid_parameter', 'start' in body ? 'start' : 'end');
      assert.match(res.body.error_msg as string, /milliseconds/);
    }
    await unchanged();
  });

  it('over HEAVY_REQUEST_CONCURRENCY, large requests get 503 with Retry-After, record pages included', async () => {
    // Hold one heavy request open: a 900 KiB body declared (under BODY_MAX_BYTES), a part of it sent.
    const { request } = await import('node:http');
    const url = new URL(records(), server.baseUrl);
    const hold = () => {
      const req = request(url, {
        method: 'POST',
        headers: { ...json, authorization: `Bearer ${token}`, 'content-length': String(900 * KIB) },
      });
      req.on('error', () => undefined);
      req.write(`[${' '.repeat(64 * KIB)}`);
      let status = 0;
      const done = new Promise<number>((resolve) =>
        req.on('response', (r) => {
          r.resume();
          status = r.statusCode ?? 0;
          resolve(status);
        }),
      );
      return { req, done, refused: () => status !== 0 };
    };
    let held = hold();
    // The held request takes the only slot once the server has its headers; a probe that took the
    // slot first makes it refused, and then it is sent again.
    let busy: Awaited<ReturnType<typeof raw>> | undefined;
    for (let i = 0; i < 300; i++) {
      busy = await raw(server, 'GET', `${records()}?limit=1000`, { token });
      if (busy.status === 503) break;
      if (held.refused()) held = hold();
      await sleep(50);
    }
    assert.ok(busy);
    expectRefused(tally, 'record page while busy', busy, 503, 'service_unavailable');
    assert.ok(Number(busy.headers.get('retry-after')) > 0);
    const gz = await raw(server, 'POST', records(), {
      token,
      headers: { ...json, 'content-encoding': 'gzip' },
      body: gzipSync('{"title":"x"}'),
    });
    expectRefused(tally, 'gzip body while busy', gz, 503, 'service_unavailable');
    // Small requests are never held back.
    const small = await raw(server, 'GET', `${records()}?limit=20`, { token });
    assert.equal(small.status, 200);
    held.req.end(`${' '.repeat(900 * KIB - 64 * KIB - 2)}]`);
    assert.equal(await held.done, 400); // an empty array of rows
    const free = await raw(server, 'GET', `${records()}?limit=1000`, { token });
    assert.equal(free.status, 200, 'the slot is given back');
    await unchanged();
  });
});
