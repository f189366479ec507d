/**
 * Hostile bundles, refused cleanly: at the request when the first bytes show it (400
 * invalid_file and a sentence), otherwise by the job (failed, invalid_file, the sentence in its
 * errors and in the import status), with every table as it was and the server still serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { client, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { makeTable, NOTES_SCHEMA, workspace } from './helpers.js';

const HEAD = '{"format":"tableport.bundle","version":1,"tables":{';

describe('hostile bundles', () => {
  let server: TestServer;

  before(async () => {
    // A lower table cap than the default 1000, so the 10,000-table case stays quick.
    server = await startTestServer({ env: { BUNDLE_MAX_TABLES: '100' } });
  });
  after(async () => {
    await server?.close();
  });

  async function user() {
    const u = await server.createUser();
    await makeTable(server, u.token, 'precious', NOTES_SCHEMA, [{ body: 'must survive' }]);
    return u;
  }

  async function refusedAtRequest(body: Buffer | string, pattern: RegExp): Promise<void> {
    const u = await user();
    const res = await client(server, u.token).post('/oserve/v1/data/import/').attach('file', Buffer.from(body), 'bundle.json');
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error_code, 'invalid_file');
    assert.match(res.body.error_msg, pattern);
    assert.equal((await workspace(server, u.token)).precious?.rows.length, 1);
  }

  async function refusedByJob(body: Buffer | string, pattern: RegExp, table?: string): Promise<void> {
    const u = await user();
    const before = await workspace(server, u.token);
    const res = await client(server, u.token).post('/oserve/v1/data/import/').attach('file', Buffer.from(body), 'bundle.json');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, u.token, res.body.job_id, 120_000);
    assert.equal(job.status, 'failed');
    const last = job.errors.at(-1);
    assert.equal(last?.error_code, 'invalid_file');
    assert.match(job.errors.map((e) => e.error_msg).join('\n'), pattern);
    const status = (await client(server, u.token).get('/oserve/v1/data/import/status/')).body;
    assert.equal(status.status, 'failed');
    if (table) assert.match(status.tables[table] ?? '', pattern);
    assert.deepEqual(await workspace(server, u.token), before, 'every table as it was');
  }

  test('not JSON, not a bundle, another format or version: 400 at once', async () => {
    await refusedAtRequest('name,qty\na,1\n', /not a tableport bundle.*starts with "n"/);
    await refusedAtRequest('[{"a":1}]', /not a tableport bundle/);
    await refusedAtRequest('{"format":"kuiper","version":1,"tables":{}}', /"format" is "kuiper"/);
    await refusedAtRequest('{"format":"tableport.bundle","version":2,"tables":{}}', /version 1/);
    await refusedAtRequest(gzipSync('{"format":"tableport.bundle","version":7,"tables":{}}'), /"version" is 7/);
    const u = await user();
    const empty = await client(server, u.token).post('/oserve/v1/data/import/').send({ content: '   ' });
    assert.equal(empty.body.error_code, 'invalid_file');
    const none = await client(server, u.token).post('/oserve/v1/data/import/').send({});
    assert.equal(none.body.error_code, 'invalid_parameter');
    const mode = await client(server, u.token)
      .post('/oserve/v1/data/import/?mode=wipe')
      .send({ content: `${HEAD}}}` });
    assert.equal(mode.body.error_code, 'invalid_parameter');
    assert.equal(mode.body.parameter, 'mode');
    const rename = await client(server, u.token)
      .post('/oserve/v1/data/import/')
      .send({ content: `${HEAD}}}`, rename: { a: '1bad' } });
    assert.equal(rename.body.error_code, 'invalid_parameter');
  });

  test('table and field names the schema rules refuse', async () => {
    await refusedAtRequest(
      `${HEAD}"drop table x":{"schema":{"fields":[{"name":"a","type":"string"}]},"rows":[]}}}`,
      /the table name "drop table x" cannot be used/,
    );
    await refusedAtRequest(`${HEAD}"t":{"schema":{"fields":[{"name":"created_at","type":"string"}]},"rows":[]}}}`, /built-in field name/);
    await refusedAtRequest(
      `${HEAD}"t":{"schema":{"fields":[{"name":"a\\"; DROP","type":"string"}]},"rows":[]}}}`,
      /schema.fields\[0\].name/,
    );
    // Further in than the request reads: the job refuses it, naming the table.
    const note = 'n'.repeat(1000);
    const filler = Array.from(
      { length: 70 },
      (_, k) => `"t${k}":{"schema":{"fields":[{"name":"a","type":"string","description":"${note}"}]},"rows":[]}`,
    );
    await refusedByJob(
      `${HEAD}${filler.join(',')},"ok":{"schema":{"fields":[{"name":"a","type":"string"}]},"rows":[{"a":"x"}]},"9bad":{"schema":{"fields":[{"name":"a","type":"string"}]}}}}`,
      /the table name "9bad" cannot be used/,
    );
  });

  test('10,000 tables: refused at the table cap (BUNDLE_MAX_TABLES)', async () => {
    const tables = Array.from({ length: 10_000 }, (_, k) => `"t${k}":{"schema":{"fields":[{"name":"a","type":"string"}]},"rows":[]}`);
    await refusedByJob(`${HEAD}${tables.join(',')}}}`, /at most 100 tables/);
  });

  test('a 1 GB string (gzip-compressed to a megabyte): refused at the value cap without inflating it all', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const parts = [Buffer.from(`${HEAD}"t":{"schema":{"fields":[{"name":"a","type":"string"}]},"rows":[{"a":"`)];
    for (let k = 0; k < 1024; k++) parts.push(chunk);
    parts.push(Buffer.from('"}]}}}'));
    const gz = gzipSync(Buffer.concat(parts), { level: 9 });
    assert.ok(gz.length < 3 * 1024 * 1024, `${gz.length} bytes`);
    await refusedByJob(gz, /row 1 of table "t" is larger than \d+ characters/, 't');
    // The server still serves.
    const u = await server.createUser();
    assert.equal((await client(server, u.token).get('/oserve/v1/table/')).status, 200);
  });

  test('deep nesting and a row that is not JSON', async () => {
    const deep = `${HEAD}"t":{"schema":{"fields":[{"name":"a","type":"object"}]},"rows":[{"a":${'['.repeat(100_000)}`;
    await refusedAtRequest(deep, /nested more than 64 deep/);
    const pad = Array.from({ length: 10_000 }, (_, k) => `{"a":"${k}"}`).join(',\n');
    await refusedByJob(
      `${HEAD}"t":{"schema":{"fields":[{"name":"a","type":"string"}]},"rows":[${pad},\n{"a": nope}]}}}`,
      /line 10001: row 10001 of table "t" is not valid JSON/,
      't',
    );
  });
});
