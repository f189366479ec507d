/**
 * The whole service with STORAGE_URL=s3://...: exports are written to the bucket and downloaded
 * through the same signed link (streamed by the service), uploads go to the bucket and are read
 * back by the import, and STORAGE_DIR holds nothing but the emptied upload folder.
 */
import assert from 'node:assert/strict';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { client, createTable, download, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startS3rver, type RunningServer } from '../locations/servers.js';
import { freePort } from '../../helpers/ports.js';

const PORT = await freePort();
const ENDPOINT = `http://127.0.0.1:${PORT}`;
const KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

describe('the service with its files in S3 (STORAGE_URL)', () => {
  let s3: RunningServer;
  let server: TestServer;
  let raw: S3Client;
  let token: string;
  let tableId: number;

  const keys = async (prefix: string) =>
    ((await raw.send(new ListObjectsV2Command({ Bucket: 'tp-files', Prefix: prefix }))).Contents ?? []).map((o) => o.Key ?? '');

  before(async () => {
    s3 = await startS3rver(PORT, ['tp-files']);
    server = await startTestServer({
      env: {
        STORAGE_URL: 's3://tp-files/svc/',
        STORAGE_S3_ENDPOINT: ENDPOINT,
        STORAGE_S3_ACCESS_KEY_ID: KEYS.accessKeyId,
        STORAGE_S3_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
      },
    });
    raw = new S3Client({ endpoint: ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: KEYS });
    ({ token } = await server.createUser());
    tableId = await createTable(server, token, 'orders', {
      fields: [
        { name: 'title', type: 'string' },
        { name: 'qty', type: 'integer' },
      ],
    });
  });
  after(async () => {
    raw.destroy();
    await server.close();
    await s3.close();
  });

  test('an upload is stored in the bucket, imported from there, and then removed', async () => {
    const c = client(server, token);
    const csv = 'id,title,qty\na1,first,1\na2,"second, with comma",2\n';
    const res = await c.post(`/oserve/v1/table/${tableId}/import/`).attach('file', Buffer.from(csv), 'orders.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 2);
    assert.deepEqual(await keys('svc/imports/'), [], 'the upload object is removed once imported');
    assert.deepEqual(await readdir(`${server.config.storageDir}/.incoming`), [], 'nothing stays on local disk');
  });

  test('an export lands in the bucket and the signed link streams it', async () => {
    const c = client(server, token);
    const res = await c.post(`/oserve/v1/table/${tableId}/export/`).send({ file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(await keys('svc/exports/'), [`svc/exports/${job.id}/${job.file_name}`]);

    const file = await download(job.file_url ?? '');
    assert.equal(file.status, 200);
    assert.match(file.headers.get('content-type') ?? '', /text\/csv/);
    assert.equal(file.headers.get('content-length'), String(Buffer.byteLength(file.body)));
    const lines = file.body.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[1] ?? '', /^a1,\d+,\d+,\d+,first,1$/);
    assert.match(lines[2] ?? '', /"second, with comma",2$/);

    // The link keeps its form, and a forged one is still refused.
    assert.match(job.file_url ?? '', new RegExp(`^${server.baseUrl}/oserve/v1/files/${job.id}/[^?]+\\?expires=\\d+&signature=`));
    assert.equal((await download((job.file_url ?? '').replace(/signature=./, 'signature=A'))).status, 403);
  });

  test('a file removed from the bucket is 410 link_expired, not a 500', async () => {
    const c = client(server, token);
    const { body } = await c.get('/oserve/v1/jobs/?limit=10');
    const exp = (body.objects as Array<{ id: string; type: string; file_url: string | null; file_name: string }>).find(
      (j) => j.type === 'export',
    );
    assert.ok(exp?.file_url);
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await raw.send(new DeleteObjectCommand({ Bucket: 'tp-files', Key: `svc/exports/${exp.id}/${exp.file_name}` }));
    const res = await download(exp.file_url);
    assert.equal(res.status, 410);
    assert.equal(JSON.parse(res.body).error_code, 'link_expired');
  });
});
