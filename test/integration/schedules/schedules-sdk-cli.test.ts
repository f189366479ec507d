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

  test('tableport schedules update changes the timing and the mode; a mistake changes nothing', async () => {
    const tp = new TablePort({ baseUrl: server.baseUrl, token });
    const table = (await tp.listTables()).objects.find((t) => t.name === 'orders');
    const s = await tp.schedules.create({ tableId: table?.id ?? 0, every: '1h', export: { fileType: 'csv' } });

    const cron = await runTableport(
      ['schedules', 'update', s.id, '--cron', '0 3 * * *', '--timezone', 'Asia/Shanghai', '--mode', 'changes'],
      env,
    );
    assert.equal(cron.code, 0, cron.stderr);
    assert.match(cron.stdout, /when: +0 3 \* \* \* \(Asia\/Shanghai\)/);
    assert.match(cron.stdout, /changes since the last run/);
    const read = await tp.schedules.get(s.id);
    assert.deepEqual([read.every, read.cron, read.timezone, read.mode], [null, '0 3 * * *', 'Asia/Shanghai', 'changes']);

    // Only what is given changes: the mode stays.
    const every = await runTableport(['schedules', 'update', s.id, '--every', '30m', '--json'], env);
    assert.equal(every.code, 0, every.stderr);
    const shown = JSON.parse(every.stdout) as { every: string | null; cron: string | null; mode: string };
    assert.deepEqual([shown.every, shown.cron, shown.mode], ['30m', null, 'changes']);

    // Bad usage, found before asking the server: exit 2.
    for (const args of [[], ['--every', '1h', '--cron', '0 3 * * *'], ['--every', '1h', '--timezone', 'UTC'], ['--mode', 'some']]) {
      const r = await runTableport(['schedules', 'update', s.id, ...args], env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    // Refused by the server: exit 3 and its error_code.
    const bad = await runTableport(['schedules', 'update', s.id, '--cron', '61 25 * * *', '--json'], env);
    assert.equal(bad.code, 3, bad.stderr);
    assert.equal((JSON.parse(bad.stdout) as { error_code: string }).error_code, 'invalid_parameter');
    assert.match(bad.stderr, /invalid_parameter: Invalid parameter "cron"/);
    const missing = await runTableport(['schedules', 'update', '00000000-0000-4000-8000-000000000000', '--every', '1h'], env);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /not_found/);
    const kept = await tp.schedules.get(s.id);
    assert.deepEqual([kept.every, kept.cron, kept.mode], ['30m', null, 'changes'], 'a mistake changed nothing');
    await tp.schedules.delete(s.id);
  });
});
