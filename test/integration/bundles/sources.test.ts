/**
 * Where a bundle import reads from besides an upload: a file:// URL under IMPORT_DIR (and nowhere
 * else), and a location whose credentials never reach the job row or BullMQ in clear.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { client, waitForJob } from '../../helpers/api.js';
import { storedJobData } from '../../helpers/queue-store.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { NOTES_SCHEMA, workspace } from './helpers.js';

const BUNDLE = JSON.stringify({
  format: 'tableport.bundle',
  version: 1,
  tables: { notes: { schema: NOTES_SCHEMA, rows: [{ body: 'from a file' }] } },
});

describe('bundle import sources', () => {
  let server: TestServer;
  let importDir: string;
  let outside: string;

  before(async () => {
    importDir = await mkdtemp(join(tmpdir(), 'tp-import-dir-'));
    outside = await mkdtemp(join(tmpdir(), 'tp-outside-'));
    await writeFile(join(importDir, 'backup.json'), BUNDLE);
    await writeFile(join(outside, 'secret.json'), BUNDLE);
    server = await startTestServer({ env: { IMPORT_DIR: importDir } });
  });
  after(async () => {
    await server?.close();
    await rm(importDir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  test('{"file": "file:///..."} under IMPORT_DIR is read by the job', async () => {
    const u = await server.createUser();
    const res = await client(server, u.token)
      .post('/oserve/v1/data/import/?mode=merge')
      .send({ file: pathToFileURL(join(importDir, 'backup.json')).href });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, u.token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(
      (await workspace(server, u.token)).notes?.rows.map((r) => r.body),
      ['from a file'],
    );
  });

  test('a file outside IMPORT_DIR, or .. out of it, is refused at the request', async () => {
    const u = await server.createUser();
    for (const url of [
      pathToFileURL(join(outside, 'secret.json')).href,
      `${pathToFileURL(importDir).href}/../${outside.split('/').pop()}/secret.json`,
    ]) {
      const res = await client(server, u.token).post('/oserve/v1/data/import/').send({ file: url });
      assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error_code, 'invalid_parameter');
    }
    const s3 = await client(server, u.token).post('/oserve/v1/data/import/').send({ file: 's3://bucket/key.json' });
    assert.equal(s3.body.parameter, 'file');
  });

  test("a location's credentials are sealed: not in the job row, not in the queue", async () => {
    const u = await server.createUser();
    const secret = 'SECRET-KEY-d41d8cd98f00b204';
    const res = await client(server, u.token)
      .post('/oserve/v1/data/import/')
      .send({
        source: 's3://bucket/backup.json',
        connection: { region: 'us-east-1', access_key_id: 'AKIAEXAMPLE', secret_key: secret, endpoint_url: 'http://127.0.0.1:9' },
      });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, u.token, res.body.job_id, 60_000);
    assert.equal(job.status, 'failed');
    assert.ok(!JSON.stringify(job).includes(secret));
    const row = await server.db.query('SELECT row_to_json(j)::text AS t FROM tableport.jobs j WHERE id = $1', [job.id]);
    assert.ok(!String(row.rows[0]?.t).includes(secret), 'the job row holds no secret in clear');
    assert.ok(!String(row.rows[0]?.t).includes('AKIAEXAMPLE'));
    const stored = await storedJobData(server);
    assert.ok(stored.length > 0, 'the queue holds the job');
    for (const data of stored) assert.ok(!data.includes(secret), `the queue holds the secret: ${data}`);
  });
});
