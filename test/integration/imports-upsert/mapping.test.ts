/** `mapping`: file columns renamed to fields or dropped on the way in, as a user with someone else's spreadsheet needs. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { xlsxOf } from '../../helpers/xlsx.js';

const PEOPLE = {
  fields: [
    { name: 'email', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'score', type: 'integer' },
  ],
};

describe('import mapping', () => {
  let server: TestServer;
  let token: string;
  let importDir: string;
  let n = 0;

  before(async () => {
    importDir = await mkdtemp(join(tmpdir(), 'tp-mapping-'));
    server = await startTestServer({ env: { IMPORT_DIR: importDir } });
    ({ token } = await server.createUser());
  });
  after(async () => {
    await server.close();
    await rm(importDir, { recursive: true, force: true });
  });

  const table = () => createTable(server, token, `people_${++n}`, PEOPLE);
  const rows = async (t: number) => {
    const res = await client(server, token).get(`/oserve/v1/table/${t}/record/?order_by=email&limit=100`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.objects as Array<Record<string, unknown>>).map((r) => ({ email: r.email, name: r.name, score: r.score }));
  };

  test('a CSV whose headers are not field names imports through mapping; a null drops a column', async () => {
    const t = await table();
    const csv = 'E-mail,Full name,Points,Notes\na@x.org,Ann,3,call back\nb@x.org,Bo,,\n';
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .field('mapping', JSON.stringify({ 'E-mail': 'email', 'Full name': 'name', Points: 'score', Notes: null }))
      .attach('file', Buffer.from(csv), 'people.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 2);
    assert.deepEqual(await rows(t), [
      { email: 'a@x.org', name: 'Ann', score: 3 },
      { email: 'b@x.org', name: 'Bo', score: null },
    ]);
  });

  test('JSON rows take mapping too: a key dropped, keys renamed, the others kept', async () => {
    const t = await table();
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .field('mapping', JSON.stringify({ mail: 'email', who: 'name', junk: null }))
      .attach('file', Buffer.from('[{"mail": "c@x.org", "who": "Cy", "junk": [1], "score": 7}]'), 'people.json');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(await rows(t), [{ email: 'c@x.org', name: 'Cy', score: 7 }]);
  });

  test('an xlsx sheet whose headers are labels imports through mapping', async () => {
    const t = await table();
    const book = await xlsxOf([
      ['E-mail address', 'Full name', 'Points', 'Comment'],
      ['e@x.org', 'Eve', 5, 'vip'],
    ]);
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .field('mapping', JSON.stringify({ 'E-mail address': 'email', 'Full name': 'name', Points: 'score', Comment: null }))
      .attach('file', book, 'people.xlsx');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(await rows(t), [{ email: 'e@x.org', name: 'Eve', score: 5 }]);
  });

  test('a JSON body naming a source takes mapping as an object', async () => {
    const t = await table();
    await writeFile(join(importDir, 'people.csv'), 'Mail,Who,Junk\nd@x.org,Di,1\n');
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .send({ source: `file://${join(importDir, 'people.csv')}`, mapping: { Mail: 'email', Who: 'name', Junk: null } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(await rows(t), [{ email: 'd@x.org', name: 'Di', score: null }]);
  });

  test('a mapping to a name that is not a field is refused at once, naming the file column and the field', async () => {
    const t = await table();
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .field('mapping', JSON.stringify({ 'Full name': 'fullname' }))
      .attach('file', Buffer.from('Full name\nAnn\n'), 'people.csv');
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 'invalid_parameter');
    assert.equal(res.body.parameter, 'mapping');
    assert.match(res.body.error_msg, /file column "Full name" to "fullname", which is not a field of the table/);
    assert.match(res.body.error_msg, /"email", "name", "score"/);
  });

  test('two columns filling one field, a column the file lacks, and JSON that is not an object are each refused with their names', async () => {
    const t = await table();
    const c = client(server, token);
    const twice = await c
      .post(`/oserve/v1/table/${t}/import/`)
      .field('mapping', JSON.stringify({ Mail: 'email', Other: 'email' }))
      .attach('file', Buffer.from('Mail,Other\na,b\n'), 'x.csv');
    assert.equal(twice.status, 400);
    assert.match(twice.body.error_msg, /both file columns "Mail" and "Other" to the field "email"/);

    const clash = await c
      .post(`/oserve/v1/table/${t}/import/`)
      .field('mapping', JSON.stringify({ Mail: 'email' }))
      .attach('file', Buffer.from('Mail,email\na,b\n'), 'x.csv');
    const clashJob = clash.status === 201 ? await waitForJob(server, token, clash.body.job_id) : undefined;
    const clashMsg = clashJob ? clashJob.errors.map((e) => e.error_msg).join(' ') : String(clash.body.error_msg);
    assert.match(clashMsg, /the columns "Mail" and "email" both fill the field "email"/);

    server.clock.advance(61_000);
    const missing = await c
      .post(`/oserve/v1/table/${t}/import/`)
      .field('mapping', JSON.stringify({ Emial: 'email' }))
      .attach('file', Buffer.from('email\na\n'), 'x.csv');
    const missingJob = missing.status === 201 ? await waitForJob(server, token, missing.body.job_id) : undefined;
    const missingMsg = missingJob ? missingJob.errors.map((e) => e.error_msg).join(' ') : String(missing.body.error_msg);
    assert.match(missingMsg, /"mapping" names a column the file does not have: "Emial"; the file's columns are "email"/);

    server.clock.advance(61_000);
    const bad = await c
      .post(`/oserve/v1/table/${t}/import/`)
      .field('mapping', '["email"]')
      .attach('file', Buffer.from('email\na\n'), 'x.csv');
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.equal(bad.body.parameter, 'mapping');
  });

  test("POST /table/import/ names the new table's fields after mapping", async () => {
    const res = await client(server, token)
      .post('/oserve/v1/table/import/')
      .field('name', `mapped_${++n}`)
      .field('mapping', JSON.stringify({ 'Full name': 'name', Notes: null }))
      .attach('file', Buffer.from('Full name,Age,Notes\nAnn,30,x\n'), 'p.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const tbl = await client(server, token).get(`/oserve/v1/table/${res.body.table_id}/`);
    assert.deepEqual(
      (tbl.body.schema.fields as Array<{ name: string }>).map((f) => f.name),
      ['name', 'Age'],
    );
  });
});
