import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, TablePort, toUnixSeconds } from '../../../src/sdk/index.js';
import { readBody, sendJson, stubPerTest } from './stub-server.js';
import { defined } from '../../helpers/defined.js';

describe('rows() pages by following next', () => {
  const serve = stubPerTest();

  it('yields every row across pages and stops at next: null', async () => {
    const all = Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, created_at: i, updated_at: i, created_by: null }));
    const stub = await serve((req, res) => {
      const url = new URL(defined(req.url, 'req.url'), 'http://x');
      const limit = Number(url.searchParams.get('limit') ?? 2);
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const next = offset + limit < all.length ? `/oserve/v1/table/4/record/?limit=${limit}&offset=${offset + limit}` : null;
      sendJson(res, 200, {
        meta: { limit, offset, total_count: all.length, next, previous: null },
        objects: all.slice(offset, offset + limit),
      });
    });
    const ids: string[] = [];
    for await (const row of new TablePort({ baseUrl: stub.baseUrl, token: 't' }).table(4).rows({ limit: 2 })) ids.push(row.id);
    assert.deepEqual(ids, ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(
      stub.requests.map((r) => r.url),
      [
        // The SDK asks for oldest first: the server's default (MinApp's) is newest first.
        '/oserve/v1/table/4/record/?limit=2&order_by=created_at',
        '/oserve/v1/table/4/record/?limit=2&offset=2',
        '/oserve/v1/table/4/record/?limit=2&offset=4',
      ],
    );
  });
});

describe('export() times', () => {
  const serve = stubPerTest();

  it('sends Date and ISO bounds as Unix seconds, start rounded down and end up, mode part', async () => {
    let body: unknown;
    const stub = await serve(async (req, res) => {
      body = JSON.parse(await readBody(req));
      sendJson(res, 201, { status: 'ok', job_id: 'j9' });
    });
    const job = await new TablePort({ baseUrl: stub.baseUrl, token: 't' })
      .table(4)
      .export({ fileType: 'json', start: new Date(1_700_000_000_500), end: '2023-11-14T22:13:25.200Z' });
    assert.equal(job.id, 'j9');
    assert.deepEqual(body, { file_type: 'json', mode: 'part', start: 1_700_000_000, end: 1_700_000_006 });
  });

  it('toUnixSeconds takes seconds, numeric strings, Dates and ISO strings and refuses milliseconds', () => {
    assert.equal(toUnixSeconds(1_700_000_000, 'floor'), 1_700_000_000);
    assert.equal(toUnixSeconds('1700000000', 'floor'), 1_700_000_000);
    assert.equal(toUnixSeconds('2023-11-14T22:13:20Z', 'floor'), 1_700_000_000);
    assert.equal(toUnixSeconds(new Date(0), 'ceil'), 0);
    assert.throws(() => toUnixSeconds(Date.now(), 'floor'), InvalidArgumentError);
    assert.throws(() => toUnixSeconds('yesterday', 'floor'), InvalidArgumentError);
  });
});
