import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { createBundleWriter, type BundleTableSource } from '../../../src/bundles/index.js';
import { TooManyRowsError } from '../../../src/errors.js';
import { bytes, readAll, SCHEMA } from './helpers.js';

const ROWS = [
  { id: 'a1', created_at: 1700000000, updated_at: 1700000000, created_by: '1', title: 'plain', qty: 1, tags: ['x'] },
  { id: 'a2', created_at: 1700000001, updated_at: 1700000001, created_by: '1', title: '北京 🚀 "q" \\ ,\n', qty: null, tags: [] },
  { id: 'a3', created_at: 1700000002, updated_at: 1700000002, created_by: null, title: '', qty: -5, tags: [{ k: '}]' }] },
];
/** What COPY of row_to_json gives: one object per line. */
const LINES = ROWS.map((r) => `${JSON.stringify(r)}\n`).join('');

function table(name: string, lines: string | null, chunk = Number.POSITIVE_INFINITY): BundleTableSource {
  const t: BundleTableSource = { name, schema: SCHEMA };
  if (lines !== null) t.openRows = async () => bytes(lines, chunk);
  return t;
}

describe('bundle writer', () => {
  it("writes the contract's shape, rows passed through as array elements", async () => {
    for (const chunk of [Number.POSITIVE_INFINITY, 1, 3, 7]) {
      const { stream, stats } = createBundleWriter([table('orders', LINES, chunk), table('empty', ''), table('schema_only', null)], {
        exportedAt: 1763700000,
      });
      const text = (await buffer(stream)).toString('utf8');
      assert.deepEqual(
        JSON.parse(text),
        {
          format: 'tableport.bundle',
          version: 1,
          exported_at: 1763700000,
          tables: {
            orders: { schema: SCHEMA, rows: ROWS },
            empty: { schema: SCHEMA, rows: [] },
            schema_only: { schema: SCHEMA, rows: [] },
          },
        },
        `chunks of ${chunk}`,
      );
      assert.deepEqual(stats, { tables: 3, rows: 3 });
      // One row per line: diffs of two bundles show rows, and the reader's line numbers mean something.
      assert.equal(text.split('\n').filter((l) => l.includes('"id":"a')).length, 3);
    }
  });

  it('writes an empty workspace as a bundle with no tables', async () => {
    const { stream } = createBundleWriter([], { exportedAt: 5 });
    assert.deepEqual(JSON.parse((await buffer(stream)).toString()), { format: 'tableport.bundle', version: 1, exported_at: 5, tables: {} });
  });

  it('gzips on request', async () => {
    const { stream } = createBundleWriter([table('orders', LINES)], { exportedAt: 1, gzip: true });
    const gz = await buffer(stream);
    assert.deepEqual(gz.subarray(0, 2), Buffer.from([0x1f, 0x8b]));
    assert.deepEqual(JSON.parse(gunzipSync(gz).toString()).tables.orders.rows, ROWS);
  });

  it('reads back with the bundle reader, plain and gzip', async () => {
    for (const gzip of [false, true]) {
      const { stream } = createBundleWriter([table('a', LINES, 5), table('b', null)], { exportedAt: 1, gzip });
      const r = await readAll(bytes(await buffer(stream), 11));
      assert.equal(r.error, undefined);
      assert.deepEqual(r.order, ['a', 'b']);
      assert.deepEqual(
        r.tables.get('a')?.rows.map((x) => x.row),
        ROWS,
      );
      assert.deepEqual(
        r.tables.get('a')?.rows.map((x) => x.position),
        [1, 2, 3],
      );
      assert.equal(r.tables.get('b')?.ended, 0);
    }
  });

  it('opens one table at a time, when the reader gets to it', async () => {
    let open = 0;
    let most = 0;
    const opened: string[] = [];
    const sources = ['a', 'b', 'c'].map<BundleTableSource>((name) => ({
      name,
      schema: SCHEMA,
      openRows: async () => {
        opened.push(name);
        most = Math.max(most, ++open);
        const s = bytes(LINES, 4);
        s.once('close', () => open--);
        return s;
      },
    }));
    const { stream } = createBundleWriter(sources, { exportedAt: 1 });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(opened, [], 'nothing is opened before the bundle is read');
    await buffer(stream);
    assert.deepEqual(opened, ['a', 'b', 'c']);
    assert.equal(most, 1);
  });

  it('pulls rows only as fast as the bundle is read (backpressure)', async () => {
    let pulled = 0;
    const line = Buffer.from(`${JSON.stringify(ROWS[0])}\n`);
    const endless = new Readable({
      read() {
        pulled++;
        this.push(line);
      },
    });
    const { stream } = createBundleWriter([{ name: 't', schema: SCHEMA, openRows: async () => endless }], { exportedAt: 1 });
    // Read until rows flow, then stop reading.
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        if (!chunk.includes('"id"')) return;
        stream.pause();
        stream.off('data', onData);
        resolve();
      };
      stream.on('data', onData);
    });
    for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r));
    const before = pulled;
    for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r));
    assert.equal(pulled, before, 'a paused reader stops the rows');
    assert.ok(pulled < 1000, `pulled ${pulled} lines while nobody read`);
    endless.on('error', () => undefined);
    const closed = new Promise((r) => endless.once('close', r));
    stream.destroy();
    await closed;
    assert.ok(endless.destroyed, 'giving up on the bundle ends the table being read');
  });

  it('fails with too_many_rows past the cap', async () => {
    const { stream } = createBundleWriter([table('a', LINES), table('b', LINES)], { exportedAt: 1, maxRows: 4 });
    await assert.rejects(buffer(stream), (err) => err instanceof TooManyRowsError);
  });

  it('passes a failing rows stream on as the bundle error', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('COPY failed'));
      },
    });
    const { stream } = createBundleWriter([{ name: 'a', schema: SCHEMA, openRows: async () => failing }], { exportedAt: 1, gzip: true });
    await assert.rejects(buffer(stream), /COPY failed/);
  });
});
