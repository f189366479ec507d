/** Mapping, upsert by key, preview and undo through the SDK and the CLI, as their users would call them. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError, TablePort, type Job, type TableSchema } from '../../../src/sdk/index.js';
import { runTableport } from '../../helpers/cli.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const PEOPLE: TableSchema = {
  fields: [
    { name: 'email', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'score', type: 'integer' },
  ],
};

describe('upsert and undo through the SDK and the CLI', () => {
  let server: TestServer;
  let tp: TablePort;
  let env: Record<string, string>;
  let dir: string;
  let n = 0;

  before(async () => {
    server = await startTestServer();
    const user = await server.createUser();
    tp = new TablePort({ baseUrl: server.baseUrl, token: user.token });
    env = { TABLEPORT_URL: server.baseUrl, TABLEPORT_TOKEN: user.token };
    dir = await mkdtemp(join(tmpdir(), 'tp-upsert-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const people = async () => {
    const table = await tp.createTable({ name: `people_${++n}`, schema: PEOPLE });
    await tp.table(table.id).insert([
      { email: 'a@x.org', name: 'Ann', score: 1 },
      { email: 'b@x.org', name: 'Bo', score: 2 },
    ]);
    return table;
  };
  const plain = async (tableId: number) => {
    const out: Array<Record<string, unknown>> = [];
    for await (const r of tp.table(tableId).rows({ orderBy: 'email' })) out.push({ email: r.email, name: r.name, score: r.score });
    return out;
  };
  const CSV = 'E-mail,Full name,Notes\na@x.org,Annie,x\nc@x.org,Cy,y\n';
  const MAPPING = { 'E-mail': 'email', 'Full name': 'name', Notes: null };

  test('SDK: a dry run previews, the upsert counts, the undo restores, a second undo is refused', async () => {
    const table = await people();
    const before = await plain(table.id);
    const t = tp.table(table.id);
    const dry = await (
      await t.import(Buffer.from(CSV), { filename: 'p.csv', mapping: MAPPING, onConflict: 'update', conflictKey: 'email', dryRun: true })
    ).wait();
    assert.deepEqual([dry.inserted, dry.updated, dry.skipped], [1, 1, 0]);
    assert.deepEqual(
      dry.preview?.rows.map((r) => [r.email, r.name]),
      [
        ['a@x.org', 'Annie'],
        ['c@x.org', 'Cy'],
      ],
    );
    assert.deepEqual(await plain(table.id), before);

    const imp = await (
      await t.import(Buffer.from(CSV), { filename: 'p.csv', mapping: MAPPING, onConflict: 'update', conflictKey: ['email'] })
    ).wait();
    assert.deepEqual([imp.inserted, imp.updated, imp.skipped], [1, 1, 0]);
    assert.deepEqual(await plain(table.id), [
      { email: 'a@x.org', name: 'Annie', score: 1 },
      { email: 'b@x.org', name: 'Bo', score: 2 },
      { email: 'c@x.org', name: 'Cy', score: null },
    ]);

    const undone = await (await tp.job(imp.id).undo()).wait();
    assert.deepEqual([undone.type, undone.undo_of, undone.deleted, undone.restored], ['undo', imp.id, 1, 1]);
    assert.deepEqual(await plain(table.id), before);

    await assert.rejects(tp.undoJob(imp.id), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 409);
      assert.equal(err.errorCode, 'undo_not_possible');
      assert.match(err.message, /it was undone already/);
      return true;
    });
  });

  test('CLI: import with --mapping, --on-conflict and --conflict-key; jobs undo --wait; a refused undo exits 3', async () => {
    const table = await people();
    const before = await plain(table.id);
    const file = join(dir, 'people.csv');
    await writeFile(file, CSV);
    const imp = await runTableport(
      [
        'import',
        table.name,
        file,
        '--mapping',
        JSON.stringify(MAPPING),
        '--on-conflict',
        'skip',
        '--conflict-key',
        'email',
        '--wait',
        '--json',
      ],
      env,
    );
    assert.equal(imp.code, 0, imp.stderr);
    const job = JSON.parse(imp.stdout) as Job;
    assert.deepEqual([job.inserted, job.updated, job.skipped], [1, 0, 1]);

    const undo = await runTableport(['jobs', 'undo', job.id, '--wait'], env);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(
      undo.stdout,
      new RegExp(`import ${job.id} undone in table ${table.id}: 1 rows it inserted deleted, 0 rows it updated restored\\.`),
    );
    assert.deepEqual(await plain(table.id), before);

    const again = await runTableport(['jobs', 'undo', job.id, '--json'], env);
    assert.equal(again.code, 3, again.stderr);
    assert.equal(JSON.parse(again.stdout).error_code, 'undo_not_possible');
    assert.match(again.stderr, /cannot be undone: it was undone already/);
  });
});
