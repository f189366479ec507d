import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NotFoundError, TablePort } from '../../../src/sdk/index.js';
import { createTable } from '../../helpers/api.js';
import { runTableport } from '../../helpers/cli.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('schedules through the SDK and the CLI', () => {
  let server: TestServer;
  let token: string;
  let env: Record<string, string>;
  before(async () => {
    server = await startTestServer({ roles: ['api'] });
    ({ token } = await server.createUser());
    env = { TABLEPORT_URL: server.baseUrl, TABLEPORT_TOKEN: token, TABLEPORT_FROM_SOURCE: '1' };
    await createTable(server, token, 'orders', { fields: [{ name: 'n', type: 'integer' }] });
  });
  after(() => server.close());

  test('the SDK creates, lists, updates, pauses, resumes, reads runs of and deletes a schedule', async () => {
    const tp = new TablePort({ baseUrl: server.baseUrl, token });
    const table = (await tp.listTables()).objects.find((t) => t.name === 'orders');
    const s = await tp.schedules.create({
      tableId: table?.id ?? 0,
      cron: '0 3 * * *',
      timezone: 'Asia/Shanghai',
      mode: 'changes',
      export: { fileType: 'ndjson', where: { n: { $gt: 0 } }, compression: 'gzip' },
    });
    assert.equal(s.mode, 'changes');
    assert.deepEqual(s.export, { file_type: 'ndjson', mode: 'all', compression: 'gzip', where: { n: { $gt: 0 } } });
    assert.equal(
      (await tp.schedules.list()).objects.some((x) => x.id === s.id),
      true,
    );
    assert.equal((await tp.schedules.update(s.id, { every: '6h' })).every, '6h');
    assert.equal((await tp.schedules.pause(s.id)).paused, true);
    assert.equal((await tp.schedules.resume(s.id)).paused, false);
    assert.deepEqual((await tp.schedules.runs(s.id)).objects, []);
    const bundle = await tp.schedules.create({ tables: ['orders'], every: '1d' });
    assert.deepEqual(bundle.tables, ['orders']);
    await tp.schedules.delete(s.id);
    await tp.schedules.delete(bundle.id);
    await assert.rejects(tp.schedules.get(s.id), NotFoundError);
  });

  test('tableport schedules create|list|show|pause|resume|runs|delete', async () => {
    const create = await runTableport(
      ['schedules', 'create', '--table', 'orders', '--every', '1h', '--type', 'csv', '--mode', 'changes'],
      env,
    );
    assert.equal(create.code, 0, create.stderr);
    const id = create.stdout.trim().split('\n').at(-1) ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/);
    const list = await runTableport(['schedules', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${id}.*every 1h.*changes.*active`));
    const show = await runTableport(['schedules', 'show', id, '--json'], env);
    assert.equal(JSON.parse(show.stdout).every, '1h');
    assert.match((await runTableport(['schedules', 'pause', id], env)).stdout, /paused/);
    assert.match((await runTableport(['schedules', 'resume', id], env)).stdout, /resumed/);
    assert.match((await runTableport(['schedules', 'runs', id], env)).stdout, /No runs yet/);
    const bad = await runTableport(['schedules', 'create', '--table', 'orders', '--every', '5s', '--type', 'csv'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /every/);
    assert.equal((await runTableport(['schedules', 'delete', id], env)).code, 0);
    const gone = await runTableport(['schedules', 'show', id], env);
    assert.notEqual(gone.code, 0);
  });
});
