/** The records API through the SDK (`table.rows`, `row(id)`, export selection) and the CLI (`tableport rows ...`). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { InvalidParameterError, NotFoundError, TablePort, type TableRow } from '../../../src/sdk/index.js';
import { download } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { defined } from '../../helpers/defined.js';
import { runTableport } from '../../helpers/cli.js';

const cli = (env: Record<string, string>, ...args: string[]) => runTableport(args, env);

describe('rows in the SDK and the CLI', () => {
  let server: TestServer;
  let tp: TablePort;
  let env: Record<string, string>;
  let tableId: number;

  before(async () => {
    server = await startTestServer();
    const { token } = await server.createUser();
    tp = new TablePort({ baseUrl: server.baseUrl, token });
    env = { TABLEPORT_URL: server.baseUrl, TABLEPORT_TOKEN: token };
    const t = await tp.createTable({
      name: 'fruit',
      schema: {
        fields: [
          { name: 'name', type: 'string' },
          { name: 'qty', type: 'integer' },
          { name: 'tags', type: 'array' },
        ],
      },
    });
    tableId = t.id;
    await tp.table(t.id).insert([
      { id: 'f1', name: 'apple', qty: 5, created_at: 100, tags: ['red'] },
      { id: 'f2', name: 'banana', qty: 12, created_at: 200 },
      { id: 'f3', name: 'cherry', qty: 30, created_at: 300, tags: ['red', 'small'] },
    ]);
  });
  after(() => server.close());

  test('SDK: rows({ where, orderBy }) follows pages; listRows; row(id).get/update/delete', async () => {
    const names = async (q: Parameters<ReturnType<TablePort['table']>['rows']>[0]) => {
      const out: string[] = [];
      for await (const r of tp.table(tableId).rows(q)) out.push(String(r.name));
      return out;
    };
    assert.deepEqual(await names({}), ['apple', 'banana', 'cherry'], 'the SDK iterates oldest first by default');
    assert.deepEqual(await names({ where: { qty: { $gte: 10 } }, orderBy: '-qty', limit: 1 }), ['cherry', 'banana']);
    assert.deepEqual(await names({ where: { tags: { $contains: 'red' } }, orderBy: ['-created_at'] }), ['cherry', 'apple']);
    const page = await tp.table(tableId).listRows({ where: { name: { $regex: 'an' } } });
    assert.deepEqual(
      page.objects.map((r: TableRow) => r.id),
      ['f2'],
    );
    await assert.rejects(
      tp.table(tableId).listRows({ where: { nope: 1 } }),
      (e: unknown) => e instanceof InvalidParameterError && e.parameter === 'where.nope',
    );

    const row = tp.table(tableId).row('f1');
    assert.equal((await row.get()).qty, 5);
    const updated = await row.update({ qty: { $incr_by: 2 }, tags: { $append_unique: ['red', 'sweet'] } });
    assert.equal(updated.qty, 7);
    assert.deepEqual(updated.tags, ['red', 'sweet']);
    await assert.rejects(row.update({ qty: 'x' }), (e: unknown) => e instanceof InvalidParameterError && e.parameter === 'qty');
    await row.delete();
    await assert.rejects(row.get(), NotFoundError);
    await tp.table(tableId).insert({ id: 'f1', name: 'apple', qty: 5, created_at: 100, tags: ['red'] });
  });

  test('SDK: export with the selection options', async () => {
    const job = await tp.table(tableId).export({
      fileType: 'csv',
      where: { qty: { $lt: 20 } },
      includeKeys: ['name', 'created_at'],
      orderBy: ['-qty'],
      csvCustomizeHeaders: ['Fruit', 'Added'],
      timestampConvertKeys: ['created_at'],
    });
    const done = await job.wait({ timeoutMs: 30_000 });
    assert.deepEqual(parse((await download(defined(done.file_url, 'done.file_url'))).body), [
      ['Fruit', 'Added'],
      ['banana', '1970-01-01T00:03:20.000Z'],
      ['apple', '1970-01-01T00:01:40.000Z'],
    ]);
  });

  test('CLI: rows list --where --order-by, get, update, delete, and a refused query exits 3', async () => {
    const list = await cli(env, 'rows', 'list', 'fruit', '--where', '{"qty": {"$gt": 6}}', '--order-by', 'qty', '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout) as TableRow[]).map((r) => r.id),
      ['f2', 'f3'],
    );
    const text = await cli(env, 'rows', 'list', 'fruit', '--limit', '2');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ID\s+NAME\s+QTY/);
    assert.equal(text.stdout.trim().split('\n').length, 3);

    const upd = await cli(env, 'rows', 'update', 'fruit', 'f2', '--set', '{"qty": {"$incr_by": -2}}');
    assert.equal(upd.code, 0, upd.stderr);
    assert.equal((JSON.parse(upd.stdout) as TableRow).qty, 10);
    const got = await cli(env, 'rows', 'get', String(tableId), 'f2');
    assert.equal((JSON.parse(got.stdout) as TableRow).qty, 10);
    const del = await cli(env, 'rows', 'delete', 'fruit', 'f2');
    assert.equal(del.code, 0, del.stderr);
    const gone = await cli(env, 'rows', 'get', 'fruit', 'f2', '--json');
    assert.equal(gone.code, 3);
    assert.equal(JSON.parse(gone.stdout).error_code, 'not_found');

    const bad = await cli(env, 'rows', 'list', 'fruit', '--where', '{"qty": {"$contains": 1}}', '--json');
    assert.equal(bad.code, 3);
    assert.equal(JSON.parse(bad.stdout).parameter, 'where.qty.$contains');
    const usage = await cli(env, 'rows', 'list', 'fruit', '--where', '{oops');
    assert.equal(usage.code, 2);
  });
});
