/**
 * Issue #7 item 1: eight concurrent `GET .../record/?limit=1000` of 31 KB rows crashed a 256 MB
 * heap. Each page now stops at RECORDS_PAGE_MAX_BYTES (default 4 MiB), however many rows were asked for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, createTable } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const ROW_BYTES = 31 * 1024;
const BUDGET = 4 * 1024 * 1024;

describe('records pages of large rows under concurrency (default budget)', () => {
  let server: TestServer;
  let c: ReturnType<typeof client>;
  let table: number;

  before(async () => {
    // All eight at once: the budget alone must bound each page here (the gate that turns excess
    // heavy requests into 503s is tested in test/hostile/).
    server = await startTestServer({ env: { HEAVY_REQUEST_CONCURRENCY: '8' } });
    const { token } = await server.createUser();
    c = client(server, token);
    table = await createTable(server, token, 'wide', { fields: [{ name: 'blob', type: 'string' }] });
    for (let batch = 0; batch < 4; batch++) {
      const rows = Array.from({ length: 250 }, (_, i) => ({ id: `w${batch}-${String(i).padStart(3, '0')}`, blob: 'x'.repeat(ROW_BYTES) }));
      assert.equal((await c.post(`/oserve/v1/table/${table}/record/`).send(rows)).status, 201);
    }
  });
  after(() => server.close());

  test('eight concurrent limit=1000 pages of 31 KB rows are each cut at the budget, with a next link', async () => {
    const pages = await Promise.all(Array.from({ length: 8 }, () => c.get(`/oserve/v1/table/${table}/record/?limit=1000`)));
    for (const res of pages) {
      assert.equal(res.status, 200);
      const bytes = Buffer.byteLength(res.text);
      assert.ok(bytes <= BUDGET + ROW_BYTES + 1024, `a page of ${bytes} bytes`);
      assert.equal(res.body.meta.truncated, true);
      assert.equal(res.body.meta.total_count, 1000);
      const n = res.body.objects.length;
      assert.ok(n > 100 && n < 140, `${n} rows`);
      assert.equal(res.body.meta.limit, n);
      assert.equal(res.body.meta.next, `/oserve/v1/table/${table}/record/?limit=1000&offset=${n}`);
    }
  });
});
