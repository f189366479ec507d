import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { RowsRepository } from '../../../src/db/repositories/rows.repository.js';
import type { FieldSchema } from '../../../src/types/api.js';
import { client, createTable } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { readAll } from '../../helpers/streams.js';

// Written newest first, so the heap's order is the reverse of the export's.
const ROWS = Array.from({ length: 40 }, (_v, i) => ({
  id: `r${String(i).padStart(2, '0')}`,
  created_at: 10_000 - i * 100,
  title: `t${i}`,
}));
const FIELDS: FieldSchema[] = [{ name: 'title', type: 'string' }];

describe('the read behind an export', () => {
  let server: TestServer;
  let tableId: number;
  let pool: pg.Pool;

  before(async () => {
    server = await startTestServer({ roles: ['api'] });
    const { token } = await server.createUser();
    tableId = await createTable(server, token, 'read_order', { fields: FIELDS });
    for (const r of ROWS) assert.equal((await client(server, token).post(`/oserve/v1/table/${tableId}/record/`).send(r)).status, 201);
    // One connection: the one the export used is the one looked at afterwards.
    pool = new pg.Pool({ connectionString: server.config.databaseUrl, max: 1 });
  });
  after(async () => {
    await pool.end();
    await server.close();
  });

  test('rows come in created_at order, and the connection goes back to the pool as it came', async () => {
    const rows = new RowsRepository(pool);
    for (const snapshot of [false, true]) {
      const out = await rows.copyOut(tableId, FIELDS, 'csv', { include_keys: ['id', 'created_at'] }, { snapshot });
      const lines = (await readAll(out)).toString().trim().split('\n');
      assert.equal(await out.copied, ROWS.length);
      const expected = [...ROWS].sort((a, b) => a.created_at - b.created_at).map((r) => `${r.id},${r.created_at}`);
      assert.deepEqual(lines.slice(1), expected);
      // The planner setting the export reads with is the transaction's, not left on a pooled connection.
      // (An export's transaction left open would still be READ ONLY.)
      const { rows: after } = await pool.query<{ scan: string; ro: string }>(
        "SELECT current_setting('enable_indexscan') AS scan, current_setting('transaction_read_only') AS ro",
      );
      assert.deepEqual(after[0], { scan: 'on', ro: 'off' });
    }
  });
});
