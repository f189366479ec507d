/** Upsert by key: `on_conflict=update|skip` with `conflict_key`, as a user syncing a spreadsheet into a table would use it. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../../src/types/api.js';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const PEOPLE = {
  fields: [
    { name: 'email', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'score', type: 'integer' },
  ],
};

describe('import upsert by key', () => {
  let server: TestServer;
  let token: string;
  let n = 0;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  /** A table holding `rows`; returns its id and the ids the rows got. */
  const tableWith = async (rows: object[]) => {
    const t = await createTable(server, token, `people_${++n}`, PEOPLE);
    if (rows.length === 0) return t;
    const res = await client(server, token).post(`/oserve/v1/table/${t}/record/`).send(rows);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return t;
  };
  const rows = async (t: number) => {
    const res = await client(server, token).get(`/oserve/v1/table/${t}/record/?order_by=email,name&limit=100`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.objects as Array<Record<string, unknown>>;
  };
  const plain = (list: Array<Record<string, unknown>>) => list.map((r) => ({ email: r.email, name: r.name, score: r.score }));
  const importCsv = async (t: number, csv: string, fields: Record<string, string>): Promise<Job> => {
    // Each import of a table takes its minute: the next one comes a minute later, by the service's clock.
    server.clock.advance(61_000);
    let req = client(server, token).post(`/oserve/v1/table/${t}/import/`);
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    const res = await req.attach('file', Buffer.from(csv), 'people.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return waitForJob(server, token, res.body.job_id);
  };

  test("update by email: matched rows get the file's fields (the others kept), new ones are inserted; the job counts both", async () => {
    const t = await tableWith([
      { email: 'a@x.org', name: 'Ann', score: 1 },
      { email: 'b@x.org', name: 'Bo', score: 2 },
    ]);
    const before = await rows(t);
    const job = await importCsv(t, 'email,name\na@x.org,Annie\nc@x.org,Cy\n', { on_conflict: 'update', conflict_key: 'email' });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(
      { inserted: job.inserted, updated: job.updated, skipped: job.skipped, rows: job.rows },
      {
        inserted: 1,
        updated: 1,
        skipped: 0,
        rows: 2,
      },
    );
    const after = await rows(t);
    assert.deepEqual(plain(after), [
      { email: 'a@x.org', name: 'Annie', score: 1 },
      { email: 'b@x.org', name: 'Bo', score: 2 },
      { email: 'c@x.org', name: 'Cy', score: null },
    ]);
    // The updated row is the same row: its id and creation time stay.
    assert.equal(after[0]?.id, before[0]?.id);
    assert.equal(after[0]?.created_at, before[0]?.created_at);
  });

  test('skip by email leaves matched rows as they are and counts them', async () => {
    const t = await tableWith([{ email: 'a@x.org', name: 'Ann', score: 1 }]);
    const job = await importCsv(t, 'email,name,score\na@x.org,Other,9\nd@x.org,Di,4\n', { on_conflict: 'skip', conflict_key: 'email' });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual([job.inserted, job.updated, job.skipped], [1, 0, 1]);
    assert.deepEqual(plain(await rows(t)), [
      { email: 'a@x.org', name: 'Ann', score: 1 },
      { email: 'd@x.org', name: 'Di', score: 4 },
    ]);
  });

  test('a key of several fields, with mapping, given as a comma list', async () => {
    const t = await tableWith([
      { email: 'a@x.org', name: 'Ann', score: 1 },
      { email: 'a@x.org', name: 'Al', score: 2 },
    ]);
    const job = await importCsv(t, 'Mail,Name,Points\na@x.org,Al,20\na@x.org,Ava,3\n', {
      on_conflict: 'update',
      conflict_key: 'email, name',
      mapping: JSON.stringify({ Mail: 'email', Name: 'name', Points: 'score' }),
    });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual([job.inserted, job.updated, job.skipped], [1, 1, 0]);
    assert.deepEqual(plain(await rows(t)), [
      { email: 'a@x.org', name: 'Al', score: 20 },
      { email: 'a@x.org', name: 'Ann', score: 1 },
      { email: 'a@x.org', name: 'Ava', score: 3 },
    ]);
  });

  test('a key that matches several rows is refused, naming the line, the key and the rows; nothing is written', async () => {
    const t = await tableWith([
      { email: 'a@x.org', name: 'Ann', score: 1 },
      { email: 'a@x.org', name: 'Al', score: 2 },
      { email: 'b@x.org', name: 'Bo', score: 3 },
    ]);
    const before = await rows(t);
    const job = await importCsv(t, 'email,score\nb@x.org,30\na@x.org,10\nz@x.org,1\n', { on_conflict: 'update', conflict_key: 'email' });
    assert.equal(job.status, 'failed');
    const ids = before.filter((r) => r.email === 'a@x.org').map((r) => `"${String(r.id)}"`);
    assert.equal(job.errors[0]?.line, 3);
    assert.match(job.errors[0]?.error_msg ?? '', /^line 3: the key email "a@x\.org" matches 2 rows of the table \(ids /);
    for (const id of ids) assert.ok(job.errors[0]?.error_msg.includes(id), job.errors[0]?.error_msg);
    assert.deepEqual(await rows(t), before);
  });

  test('an empty key and a key given twice in the file are refused with their lines', async () => {
    const t = await tableWith([{ email: 'a@x.org', name: 'Ann', score: 1 }]);
    const empty = await importCsv(t, 'email,name\na@x.org,A\n,Nobody\n', { on_conflict: 'update', conflict_key: 'email' });
    assert.equal(empty.status, 'failed');
    assert.match(empty.errors[0]?.error_msg ?? '', /^line 3, email: is empty, but it is part of conflict_key \("email"\)/);
    const twice = await importCsv(t, 'email,name\na@x.org,A\nb@x.org,B\na@x.org,C\n', { on_conflict: 'skip', conflict_key: 'email' });
    assert.equal(twice.status, 'failed');
    assert.equal(
      twice.errors[0]?.error_msg,
      'line 4: the key email "a@x.org" already appears on line 2; each key may appear once in an import',
    );
    const none = await importCsv(t, 'name\nNobody\n', { on_conflict: 'update', conflict_key: 'email' });
    assert.equal(none.status, 'failed');
    assert.equal(none.errors[0]?.error_code, 'invalid_file');
    assert.match(none.errors[0]?.error_msg ?? '', /^conflict_key names "email", but the file has no column for it;/);
    assert.deepEqual(plain(await rows(t)), [{ email: 'a@x.org', name: 'Ann', score: 1 }]);
  });

  test('conflict_key is checked before the upload is queued', async () => {
    const t = await tableWith([]);
    const c = client(server, token);
    const unknown = await c
      .post(`/oserve/v1/table/${t}/import/`)
      .field('on_conflict', 'update')
      .field('conflict_key', 'mail')
      .attach('file', Buffer.from('email\na\n'), 'x.csv');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.parameter, 'conflict_key');
    assert.match(unknown.body.error_msg, /"mail" is not a field of the table; its fields are "email", "name", "score"/);
    const alone = await c
      .post(`/oserve/v1/table/${t}/import/`)
      .field('conflict_key', 'email')
      .attach('file', Buffer.from('email\na\n'), 'x.csv');
    assert.equal(alone.status, 400);
    assert.match(alone.body.error_msg, /"conflict_key" goes with on_conflict=update or on_conflict=skip/);
  });

  test('by id (the default key) the job counts inserted and updated rows too, and a dry run says what it would do', async () => {
    const t = await tableWith([{ id: 'r1', email: 'a@x.org', name: 'Ann', score: 1 }]);
    const dry = await importCsv(t, 'id,email,name\nr1,a@x.org,Annie\nr2,b@x.org,Bo\nr3,c@x.org,Cy\n', {
      on_conflict: 'update',
      dry_run: 'true',
    });
    assert.equal(dry.status, 'succeeded', JSON.stringify(dry.errors));
    assert.deepEqual([dry.inserted, dry.updated, dry.skipped], [2, 1, 0]);
    assert.equal((await rows(t)).length, 1);
    const job = await importCsv(t, 'id,email,name\nr1,a@x.org,Annie\nr2,b@x.org,Bo\nr3,c@x.org,Cy\n', { on_conflict: 'update' });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual([job.inserted, job.updated, job.skipped], [2, 1, 0]);
    const skip = await importCsv(t, 'id,email\nr1,z@x.org\nr4,d@x.org\n', { on_conflict: 'skip' });
    assert.deepEqual([skip.inserted, skip.updated, skip.skipped], [1, 0, 1]);
    assert.deepEqual(
      (await rows(t)).map((r) => r.id),
      ['r1', 'r2', 'r3', 'r4'],
    );
  });
});
