import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RowsRepository } from '../../../src/db/repositories/rows.repository.js';
import type { FieldSchema } from '../../../src/types/api.js';
import { ALL_TYPES_SCHEMA, client, createTable } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const ROWS = Array.from({ length: 12 }, (_v, i) => ({ id: `r${i}`, created_at: 1000 + i * 100, title: `t${i}`, price: i }));

describe('the capped count of an export selection (the request-time too_many_rows check)', () => {
  let server: TestServer;
  let tableId: number;
  const fields: FieldSchema[] = [...ALL_TYPES_SCHEMA.fields];

  before(async () => {
    server = await startTestServer({ roles: ['api'] });
    const { token } = await server.createUser();
    tableId = await createTable(server, token, 'counted');
    assert.equal((await client(server, token).post(`/oserve/v1/table/${tableId}/record/`).send(ROWS)).status, 201);
  });
  after(() => server.close());

  // A small heap is counted whole (parallel count), a big one only up to cap + 1: the same answers.
  for (const [path, fullCountMaxBytes] of [
    ['whole count (small heap)', Number.MAX_SAFE_INTEGER],
    ['capped count (big heap)', 0],
  ] as const) {
    test(`${path}: exact up to the cap, cap + 1 above it, for a window and a where`, async () => {
      const rows = new RowsRepository(server.db, { fullCountMaxBytes });
      assert.equal(await rows.countUpTo(tableId, {}, 100, fields), 12);
      assert.equal(await rows.countUpTo(tableId, {}, 12, fields), 12);
      assert.equal(await rows.countUpTo(tableId, {}, 11, fields), 12, 'over the cap: cap + 1');
      assert.equal(await rows.countUpTo(tableId, {}, 5, fields), 6, 'over the cap: cap + 1');
      assert.equal(await rows.countUpTo(tableId, { start: 1200, end: 1500 }, 100, fields), 3);
      assert.equal(await rows.countUpTo(tableId, { where: { price: { $lt: 4 } } }, 100, fields), 4);
      assert.equal(await rows.countUpTo(tableId, { start: 1100, where: { price: { $gte: 10 } } }, 1, fields), 2);
      assert.equal(await rows.countUpTo(tableId, { where: { title: 'none' } }, 100, fields), 0);
    });
  }
});
