/** Undo of a succeeded import: exactly the rows it inserted go, exactly the rows it updated come back; refused when they changed since. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { ImportUndoRepository } from '../../../src/db/repositories/import-undo.repository.js';
import type { Job } from '../../../src/types/api.js';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const PEOPLE = {
  fields: [
    { name: 'email', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'score', type: 'number' },
    { name: 'tags', type: 'array' },
    { name: 'seen', type: 'date' },
  ],
};

describe('import undo', () => {
  let server: TestServer;
  let token: string;
  let importDir: string;
  let n = 0;

  before(async () => {
    importDir = await mkdtemp(join(tmpdir(), 'tp-undo-'));
    server = await startTestServer({ env: { IMPORT_DIR: importDir } });
    ({ token } = await server.createUser());
  });
  after(async () => {
    await server.close();
    await rm(importDir, { recursive: true, force: true });
  });

  const tableWith = async (rows: object[]) => {
    const t = await createTable(server, token, `people_${++n}`, PEOPLE);
    const res = await client(server, token).post(`/oserve/v1/table/${t}/record/`).send(rows);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return t;
  };
  const rows = async (t: number) => {
    const res = await client(server, token).get(`/oserve/v1/table/${t}/record/?order_by=id&limit=100`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.objects as Array<Record<string, unknown>>;
  };
  const importCsv = async (t: number, csv: string, fields: Record<string, string> = {}): Promise<Job> => {
    server.clock.advance(61_000);
    let req = client(server, token).post(`/oserve/v1/table/${t}/import/`);
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    const res = await req.attach('file', Buffer.from(csv), 'people.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    return job;
  };
  const undo = (jobId: string) => client(server, token).post(`/oserve/v1/jobs/${jobId}/undo`);

  test('an upsert undone: its inserted rows deleted, its updated rows exactly as before, once', async () => {
    const t = await tableWith([
      { id: 'r1', email: 'a@x.org', name: 'Ann', score: 0.1, tags: ['x', 1], seen: '2020-02-29T23:59:59.123Z' },
      { id: 'r2', email: 'b@x.org', name: 'Bo', score: null, tags: null, seen: null },
    ]);
    const before = await rows(t);
    // Some time passes, so an updated row's updated_at differs from what the undo must bring back.
    server.clock.advance(3600_000);
    const imp = await importCsv(t, 'email,name,score,tags\na@x.org,Annie,2.5,[]\nc@x.org,Cy,3,"[""y""]"\nd@x.org,Di,,\n', {
      on_conflict: 'update',
      conflict_key: 'email',
    });
    assert.deepEqual([imp.inserted, imp.updated], [2, 1]);
    assert.notDeepEqual(await rows(t), before);

    const res = await undo(imp.id);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'ok');
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.type, 'undo');
    assert.deepEqual(
      { undo_of: job.undo_of, deleted: job.deleted, restored: job.restored, rows: job.rows },
      {
        undo_of: imp.id,
        deleted: 2,
        restored: 1,
        rows: 3,
      },
    );
    assert.deepEqual(await rows(t), before);
    const imported = await client(server, token).get(`/oserve/v1/jobs/${imp.id}`);
    assert.equal(imported.body.undone_by, job.id);

    const again = await undo(imp.id);
    assert.equal(again.status, 409);
    assert.equal(again.body.error_code, 'undo_not_possible');
    assert.equal(again.body.error_msg, `Import ${imp.id} cannot be undone: it was undone already, by job ${job.id}.`);
  });

  test('a plain import undone removes exactly its rows; rows added since by others stay', async () => {
    const t = await tableWith([{ id: 'keep', email: 'k@x.org' }]);
    const imp = await importCsv(t, 'id,email\nn1,n1@x.org\nn2,n2@x.org\n');
    const other = await client(server, token).post(`/oserve/v1/table/${t}/record/`).send({ id: 'later', email: 'l@x.org' });
    assert.equal(other.status, 201);
    const res = await undo(imp.id);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.deleted, 2);
    assert.deepEqual(
      (await rows(t)).map((r) => r.id),
      ['keep', 'later'],
    );
  });

  test('an update by id and an import that made its table (POST /table/import/) are undone too', async () => {
    const t = await tableWith([{ id: 'r1', email: 'a@x.org', name: 'Ann', score: 1.5, created_at: 100 }]);
    const before = await rows(t);
    server.clock.advance(3600_000);
    const imp = await importCsv(t, 'id,email\nr1,new@x.org\nr9,z@x.org\n', { on_conflict: 'update' });
    assert.deepEqual([imp.inserted, imp.updated], [1, 1]);
    const res = await undo(imp.id);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal((await waitForJob(server, token, res.body.job_id)).status, 'succeeded');
    assert.deepEqual(await rows(t), before);

    const created = await client(server, token)
      .post('/oserve/v1/table/import/')
      .field('name', `fresh_${++n}`)
      .attach('file', Buffer.from('title,qty\na,1\nb,2\n'), 'fresh.csv');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const made = await waitForJob(server, token, created.body.job_id);
    assert.equal(made.status, 'succeeded', JSON.stringify(made.errors));
    assert.equal((await rows(created.body.table_id)).length, 2);
    const u = await undo(made.id);
    assert.equal(u.status, 201, JSON.stringify(u.body));
    const done = await waitForJob(server, token, u.body.job_id);
    assert.equal(done.deleted, 2);
    assert.deepEqual(await rows(created.body.table_id), []);
  });

  test('a COPY INTO a table is an import, undone the same way', async () => {
    const t = await tableWith([{ id: 'keep', email: 'k@x.org' }]);
    const name = ((await client(server, token).get(`/oserve/v1/table/${t}/`)).body as { name: string }).name;
    await writeFile(join(importDir, 'more.csv'), 'id,email\nm1,m1@x.org\nm2,m2@x.org\n');
    server.clock.advance(61_000);
    const res = await client(server, token)
      .post('/oserve/v1/sql')
      .send({ sql: `COPY INTO ${name} FROM 'file://${join(importDir, 'more.csv')}' FILE_FORMAT = (TYPE = 'CSV')` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const imp = await waitForJob(server, token, res.body.job_id);
    assert.equal(imp.status, 'succeeded', JSON.stringify(imp.errors));
    assert.equal(imp.inserted, 2);
    const u = await undo(imp.id);
    assert.equal(u.status, 201, JSON.stringify(u.body));
    assert.equal((await waitForJob(server, token, u.body.job_id)).deleted, 2);
    assert.deepEqual(
      (await rows(t)).map((r) => r.id),
      ['keep'],
    );
  });

  test('refused with 409 and the rows when a row the import touched was changed or deleted since; nothing is undone', async () => {
    const t = await tableWith([{ id: 'r1', email: 'a@x.org', name: 'Ann' }]);
    const imp = await importCsv(t, 'id,email,name\nr1,a@x.org,Annie\nr2,b@x.org,Bo\nr3,c@x.org,Cy\n', { on_conflict: 'update' });
    const put = await request(server.baseUrl)
      .put(`/oserve/v1/table/${t}/record/r1/`)
      .set('Authorization', `Bearer ${token}`)
      .send({ name: 'Anna' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const del = await client(server, token).delete(`/oserve/v1/table/${t}/record/r3/`);
    assert.ok(del.status === 200 || del.status === 204, String(del.status));
    const before = await rows(t);

    const res = await undo(imp.id);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.equal(res.body.error_code, 'undo_not_possible');
    assert.equal(
      res.body.error_msg,
      `Import ${imp.id} cannot be undone: 2 rows it wrote were changed or deleted since: "r1", "r3" (deleted). ` +
        'Undoing it would lose those changes; put the rows back by hand instead.',
    );
    assert.deepEqual(res.body.details, { changed_rows: 2, row_ids: ['r1', 'r3'] });
    assert.deepEqual(await rows(t), before);
  });

  test("what cannot be undone says why: an export, a dry run, a failed import, another user's job, expired information", async () => {
    const t = await tableWith([{ id: 'r1', email: 'a@x.org' }]);
    const c = client(server, token);
    const exp = await c.post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(exp.status, 201, JSON.stringify(exp.body));
    const r1 = await undo(exp.body.job_id);
    assert.equal(r1.status, 409);
    assert.match(r1.body.error_msg, /it is an export job; only an import can be undone\.$/);

    const dry = await importCsv(t, 'email\nz@x.org\n', { dry_run: 'true' });
    assert.match((await undo(dry.id)).body.error_msg, /it is a dry run, which wrote nothing\.$/);

    server.clock.advance(61_000);
    const bad = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('id,email\nr1,dup@x.org\n'), 'x.csv');
    const failed = await waitForJob(server, token, bad.body.job_id);
    assert.equal(failed.status, 'failed');
    const r3 = await undo(failed.id);
    assert.equal(r3.status, 409);
    assert.match(r3.body.error_msg, /it is failed; only a succeeded import wrote rows/);

    const imp = await importCsv(t, 'email\nq@x.org\n');
    const stranger = await server.createUser();
    const r4 = await client(server, stranger.token).post(`/oserve/v1/jobs/${imp.id}/undo`);
    assert.equal(r4.status, 404);

    // Past UNDO_RETENTION_SECONDS (7 days by default) by the service's clock: refused even before the sweep prunes it.
    server.clock.advance(604_800_000);
    const late = await undo(imp.id);
    assert.equal(late.status, 409);
    assert.match(late.body.error_msg, /its undo information expired 604800 seconds after the import \(UNDO_RETENTION_SECONDS\)\.$/);
    // The sweep's pruning drops it; the refusal then says it is no longer kept.
    assert.ok((await new ImportUndoRepository(server.db).prune(new Date(server.clock.now() - 604_800_000))) >= 1);
    const gone = await undo(imp.id);
    assert.match(gone.body.error_msg, /its undo information is no longer kept \(UNDO_RETENTION_SECONDS is 604800\)\.$/);
  });
});
