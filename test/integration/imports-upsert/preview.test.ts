/** A dry run's preview: the rows as they would be stored and how each column is read, before the user commits. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const PEOPLE = {
  fields: [
    { name: 'email', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'score', type: 'integer' },
    { name: 'born', type: 'date' },
  ],
};

describe('dry run preview', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  test('shows the first 20 rows as stored, each field with its type and file column, the columns dropped, and the delimiter', async () => {
    const t = await createTable(server, token, 'people', PEOPLE);
    const lines = Array.from({ length: 25 }, (_, i) => `p${i}@x.org;Person ${i};${i};2000-01-0${(i % 9) + 1};note`);
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .field('dry_run', 'true')
      .field('mapping', JSON.stringify({ Mail: 'email', Name: 'name', Notes: null }))
      .attach('file', Buffer.from(`Mail;Name;score;born;Notes\n${lines.join('\n')}\n`), 'people.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 25);
    assert.equal(job.inserted, 25);
    const p = job.preview;
    assert.ok(p, JSON.stringify(job));
    assert.equal(p.rows.length, 20);
    const first = p.rows[0] as Record<string, unknown>;
    assert.deepEqual(
      { email: first.email, name: first.name, score: first.score, born: first.born },
      { email: 'p0@x.org', name: 'Person 0', score: 0, born: '2000-01-01T00:00:00.000Z' },
    );
    assert.equal(typeof first.id, 'string');
    assert.equal(typeof first.created_at, 'number');
    assert.deepEqual(p.columns, [
      { field: 'email', type: 'string', source: 'Mail' },
      { field: 'name', type: 'string', source: 'Name' },
      { field: 'score', type: 'integer', source: 'score' },
      { field: 'born', type: 'date', source: 'born' },
    ]);
    assert.deepEqual(p.dropped, ['Notes']);
    assert.deepEqual(p.file, { format: 'csv', gzip: false, csv_delimiter: ';', encoding: 'utf-8' });
    // Nothing was written.
    const rows = await client(server, token).get(`/oserve/v1/table/${t}/record/`);
    assert.equal(rows.body.meta.total_count, 0);
  });

  test('a JSON file: built-in fields the file gives are shown too, and a field it lacks has no source', async () => {
    const t = await createTable(server, token, 'people2', PEOPLE);
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .field('dry_run', 'true')
      .attach('file', Buffer.from('[{"id": "k1", "email": "a@x.org", "score": 2}]'), 'p.json');
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(job.preview?.columns, [
      { field: 'id', type: 'string', source: 'id' },
      { field: 'email', type: 'string', source: 'email' },
      { field: 'name', type: 'string', source: null },
      { field: 'score', type: 'integer', source: 'score' },
      { field: 'born', type: 'date', source: null },
    ]);
    assert.equal(job.preview?.rows[0]?.id, 'k1');
    assert.equal(job.preview?.rows[0]?.name, null);
    assert.deepEqual(job.preview?.file, { format: 'json', gzip: false, encoding: 'utf-8' });
  });
});
