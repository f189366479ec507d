/**
 * Export `destination` and import `source` through the REST endpoints, against s3rver, server
 * folders (file://) and a plain HTTP server: round trips, folder rules, all-or-nothing folder
 * imports, refusals before queueing, and no credential in any reply, email or log line.
 */
import assert from 'node:assert/strict';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import http from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { freePort } from '../../helpers/ports.js';
import { storedJobData } from '../../helpers/queue-store.js';
import { startS3rver, type RunningServer } from './servers.js';
import { mailAbout, startLocationServer, type LocationServer } from './rest-helpers.js';

const S3_PORT = await freePort();
const HTTP_PORT = await freePort();
const ENDPOINT = `http://127.0.0.1:${S3_PORT}`;
// s3rver's only account; the secret is what must never be shown.
const S3 = { endpoint_url: ENDPOINT, access_key_id: 'S3RVER', secret_key: 'S3RVER', region: 'us-east-1' };
const PRESIGNED_SECRET = 'X-Amz-Signature=0123456789abcdefsecret';
const FIELDS = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
  ],
};

describe('locations through the REST endpoints (s3, file, http)', () => {
  let s3: RunningServer;
  let raw: S3Client;
  let web: http.Server;
  let t: LocationServer;
  let tableId: number;
  const served = new Map<string, string>();

  const getObject = async (bucket: string, key: string) =>
    (await (await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? '';
  const putObject = (bucket: string, key: string, body: string) => raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const newTable = async (name: string) => {
    const res = await t.call('post', '/oserve/v1/table/', { name, schema: FIELDS });
    assert.equal(res.status, 201, res.text);
    return res.body.id as number;
  };
  const rowsOf = async (id: number) => {
    const res = await t.call('get', `/oserve/v1/table/${id}/record/?limit=100&order_by=created_at`);
    return (res.body.objects as Array<{ id: string; title: string; qty: number }>).map((r) => [r.id, r.title, r.qty]).sort();
  };

  before(async () => {
    s3 = await startS3rver(S3_PORT, ['exports', 'landing']);
    raw = new S3Client({
      endpoint: ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    web = http.createServer((req, res) => {
      const body = served.get(new URL(req.url ?? '/', 'http://x').pathname);
      if (body === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/csv' }).end(body);
    });
    await new Promise<void>((r) => web.listen(HTTP_PORT, '127.0.0.1', r));
    t = await startLocationServer([`127.0.0.1:${S3_PORT}`, `127.0.0.1:${HTTP_PORT}`]);
    tableId = await newTable('orders');
    const res = await t.call('post', `/oserve/v1/table/${tableId}/record/`, [
      { id: 'o1', title: 'first', qty: 1 },
      { id: 'o2', title: 'comma, "quoted"', qty: 2 },
      { id: 'o3', title: '中文', qty: null },
    ]);
    assert.equal(res.status, 201, res.text);
  });
  after(async () => {
    raw.destroy();
    await t.close();
    await new Promise((r) => web.close(r));
    await s3.close();
  });

  test('export to an S3 folder: the generated file name inside it, recorded and mailed, no download link', async () => {
    const res = await t.task(`/oserve/v1/table/${tableId}/export/`, {
      file_type: 'csv',
      mode: 'all',
      destination: 's3://exports/nightly/',
      connection: S3,
    });
    assert.equal(res.status, 201, res.text);
    const job = await t.waitForJob(res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 3);
    assert.equal(job.destination_url, `s3://exports/nightly/${job.file_name}`);
    assert.match(job.file_name ?? '', /^orders_\d{8}_\d{6}\.csv$/);
    assert.equal(job.file_url, null, 'the file is in the bucket, not behind a link');
    const csv = await getObject('exports', `nightly/${job.file_name}`);
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'id,created_at,updated_at,created_by,title,qty');
    assert.equal(lines.length, 4);
    assert.match(csv, /"comma, ""quoted""",2/);
    const mail = await mailAbout(t, job.id);
    assert.deepEqual(mail.to, [t.email]);
    assert.ok(mail.text.includes(job.destination_url ?? '-'), 'the mail names the object written');
  });

  test('export to a named object, then import it back into another table', async () => {
    const out = await t.task(`/oserve/v1/table/${tableId}/export/`, {
      file_type: 'json',
      mode: 'all',
      destination: 's3://exports/copy/orders.json',
      connection: S3,
    });
    assert.equal(out.status, 201, out.text);
    const exported = await t.waitForJob(out.body.job_id);
    assert.equal(exported.status, 'succeeded', JSON.stringify(exported.errors));
    assert.equal(exported.destination_url, 's3://exports/copy/orders.json');
    const copy = await newTable('orders_copy');
    const res = await t.task(`/oserve/v1/table/${copy}/import/`, { source: 's3://exports/copy/orders.json', connection: S3 });
    assert.equal(res.status, 201, res.text);
    const job = await t.waitForJob(res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.source_url, 's3://exports/copy/orders.json');
    assert.deepEqual(await rowsOf(copy), await rowsOf(tableId));
    await mailAbout(t, job.id);
  });

  test('an import of a folder reads every object in name order as one job; one bad file writes nothing', async () => {
    await putObject('landing', 'batch/b.csv', 'id,title,qty\nb1,second,2\n');
    await putObject('landing', 'batch/a.csv', 'id,title,qty\na1,first,1\n');
    await putObject('landing', 'batch/sub/c.csv', 'id,title,qty\nc1,third,3\n');
    await putObject('landing', 'batchx/z.csv', 'id,title,qty\nz1,not in the folder,9\n');
    await putObject('landing', 'bad/1.csv', 'id,title,qty\nk1,kept?,1\n');
    await putObject('landing', 'bad/2.csv', 'id,title,qty\nk2,bad,not-a-number\n');
    const ok = await newTable('landing_ok');
    const res = await t.task(`/oserve/v1/table/${ok}/import/`, { dataFileUrl: 's3://landing/batch/', connection: S3 });
    assert.equal(res.status, 201, res.text);
    const job = await t.waitForJob(res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 3);
    assert.equal(job.source_url, 's3://landing/batch/');
    assert.deepEqual(await rowsOf(ok), [
      ['a1', 'first', 1],
      ['b1', 'second', 2],
      ['c1', 'third', 3],
    ]);

    const bad = await newTable('landing_bad');
    const res2 = await t.task(`/oserve/v1/table/${bad}/import/`, { source: 's3://landing/bad/', connection: S3 });
    assert.equal(res2.status, 201, res2.text);
    const failed = await t.waitForJob(res2.body.job_id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.errors[0]?.error_code, 'invalid_row');
    assert.match(failed.errors[0]?.error_msg ?? '', /^2\.csv: /, 'the error names the file');
    assert.equal(failed.errors[0]?.line, 2);
    assert.deepEqual(await rowsOf(bad), [], 'the good first file was not written either');
    const mail = await mailAbout(t, failed.id);
    assert.match(mail.text, /2\.csv/);
  });

  test("a folder whose files repeat each other's ids is refused row by row, naming both files, in every mode", async () => {
    // The same export landing twice: the repeats sit on the same lines of the second file.
    await putObject('landing', 'twice/a.csv', 'id,title,qty\nd1,first,1\nd2,second,2\n');
    await putObject('landing', 'twice/b.csv', 'id,title,qty\nd1,first,1\nd3,third,3\nd2,second,2\n');
    const expected = [
      ['invalid_row', 'b.csv: line 2, id: "d1" already appears in a.csv, line 2'],
      ['invalid_row', 'b.csv: line 4, id: "d2" already appears in a.csv, line 3'],
      ['invalid_row', '2 rows of the file are not valid; no row was written.'],
    ];
    for (const [name, options] of Object.entries({
      plain: {},
      dry: { dry_run: true },
      update: { on_conflict: 'update' },
      skip: { on_conflict: 'skip' },
    })) {
      const dst = await newTable(`twice_${name}`);
      const res = await t.task(`/oserve/v1/table/${dst}/import/`, { source: 's3://landing/twice/', connection: S3, ...options });
      assert.equal(res.status, 201, res.text);
      const job = await t.waitForJob(res.body.job_id);
      assert.equal(job.status, 'failed', name);
      assert.deepEqual(
        job.errors.map((e) => [e.error_code, e.error_msg]),
        expected,
        name,
      );
      assert.deepEqual(await rowsOf(dst), [], 'nothing is written');
    }
  });

  test('file:// under EXPORT_DIR and IMPORT_DIR; paths that leave them are refused before queueing', async () => {
    const res = await t.task(`/oserve/v1/table/${tableId}/export/`, {
      file_type: 'csv',
      mode: 'all',
      destination: `file://${t.exportDir}/out/`,
    });
    assert.equal(res.status, 201, res.text);
    const job = await t.waitForJob(res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.destination_url, `file://${t.exportDir}/out/${job.file_name}`);
    const written = await readFile(join(t.exportDir, 'out', job.file_name ?? ''), 'utf8');
    assert.equal(written.trim().split('\n').length, 4);

    await mkdir(join(t.importDir, 'in'), { recursive: true });
    await writeFile(join(t.importDir, 'in', 'rows.csv'), written);
    const copy = await newTable('from_file');
    const imp = await t.task(`/oserve/v1/table/${copy}/import/`, { source: `file://${t.importDir}/in/rows.csv` });
    assert.equal(imp.status, 201, imp.text);
    assert.equal((await t.waitForJob(imp.body.job_id)).status, 'succeeded');
    assert.deepEqual(await rowsOf(copy), await rowsOf(tableId));

    for (const [path, body] of [
      [`/oserve/v1/table/${tableId}/export/`, { file_type: 'csv', mode: 'all', destination: `file://${t.exportDir}/../escape.csv` }],
      [`/oserve/v1/table/${tableId}/export/`, { file_type: 'csv', mode: 'all', destination: 'file:///etc/tableport.csv' }],
      [`/oserve/v1/table/${copy}/import/`, { source: `file://${t.importDir}/../exports/out/` }],
      [`/oserve/v1/table/${copy}/import/`, { source: 'file:///etc/passwd' }],
    ] as const) {
      const r = await t.call('post', path, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.error_code, 'invalid_parameter');
    }
  });

  test('an import from an http URL (an allowed host): the query is used but never shown', async () => {
    served.set('/exports/orders.csv', 'id,title,qty\nh1,from http,7\n');
    const copy = await newTable('from_http');
    const res = await t.task(`/oserve/v1/table/${copy}/import/`, {
      dataFileUrl: `http://127.0.0.1:${HTTP_PORT}/exports/orders.csv?${PRESIGNED_SECRET}`,
    });
    assert.equal(res.status, 201, res.text);
    const job = await t.waitForJob(res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.source_url, `http://127.0.0.1:${HTTP_PORT}/exports/orders.csv`);
    assert.deepEqual(await rowsOf(copy), [['h1', 'from http', 7]]);
    await mailAbout(t, job.id);

    // MinApp's clients may post the form-encoded way, at v1.5.
    served.set('/exports/more.csv', 'id,title,qty\nh2,form-encoded,8\n');
    t.server.clock.advance(1100); // the table's import minute is 1 s here
    const form = await request(t.server.baseUrl)
      .post(`/oserve/v1.5/table/${copy}/import/`)
      .set('Authorization', `Bearer ${t.token}`)
      .type('form')
      .send({ dataFileUrl: `http://127.0.0.1:${HTTP_PORT}/exports/more.csv` });
    assert.equal(form.status, 201, form.text);
    assert.equal((await t.waitForJob(form.body.job_id)).status, 'succeeded');
    assert.deepEqual(await rowsOf(copy), [
      ['h1', 'from http', 7],
      ['h2', 'form-encoded', 8],
    ]);
  });

  test('loopback, private and metadata addresses are refused with 400 before anything is queued', async () => {
    const before = (await t.call('get', '/oserve/v1/jobs/?limit=1')).body.meta.total_count as number;
    const cases: Array<[string, object]> = [
      ['import', { source: 'http://127.0.0.1:9/x.csv' }],
      ['import', { source: 'http://localhost:8080/x.csv' }],
      ['import', { source: 'http://10.0.0.5/x.csv' }],
      ['import', { source: 'http://192.168.1.1/x.csv' }],
      ['import', { source: 'http://169.254.169.254/latest/meta-data/' }],
      ['import', { source: 'http://[::ffff:127.0.0.1]/x.csv' }],
      ['import', { source: 'http://[::1]:3000/x.csv' }],
      ['import', { source: 's3://landing/x.csv', connection: { ...S3, endpoint_url: 'http://169.254.169.254/' } }],
      [
        'export',
        { file_type: 'csv', mode: 'all', destination: 's3://exports/x/', connection: { ...S3, endpoint_url: 'http://127.0.0.1:6379/' } },
      ],
      [
        'export',
        {
          file_type: 'csv',
          mode: 'all',
          destination: 'gcs://exports/x/',
          connection: { gcs_base_url: 'http://172.16.0.1/', disable_oauth: true },
        },
      ],
      [
        'export',
        {
          file_type: 'csv',
          mode: 'all',
          destination: 'azblob://exports/x/',
          connection: { account: 'devstoreaccount1', use_emulator: true },
        },
      ],
    ];
    for (const [kind, body] of cases) {
      const r = await t.call('post', `/oserve/v1/table/${tableId}/${kind}/`, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.error_code, 'invalid_parameter');
      assert.match(r.body.error_msg, /^Refusing to connect to /, r.text);
    }
    const r = await t.task(`/oserve/v1/table/${tableId}/export/`, {
      file_type: 'csv',
      mode: 'all',
      destination: 'https://example.com/x.csv',
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error_msg, /can only be an import source/);
    const bad = await t.task(`/oserve/v1/table/${tableId}/export/`, {
      file_type: 'csv',
      mode: 'all',
      destination: 's3://exports/x/',
      connection: { secret_access_key: 'x' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.parameter, 'connection.secret_access_key');
    assert.equal((await t.call('get', '/oserve/v1/jobs/?limit=1')).body.meta.total_count, before, 'no job was made');
  });

  test('a wrong secret fails the job with a reason that holds no key', async () => {
    const res = await t.task(`/oserve/v1/table/${tableId}/export/`, {
      // s3rver checks the key id, not the signature.
      file_type: 'csv',
      mode: 'all',
      destination: 's3://exports/denied/',
      connection: { ...S3, access_key_id: 'WRONG-KEY-a1b2c3', secret_key: 'WRONG-SECRET-d41d8cd98f' },
    });
    assert.equal(res.status, 201, res.text);
    const job = await t.waitForJob(res.body.job_id);
    assert.equal(job.status, 'failed');
    assert.match(job.errors[0]?.error_msg ?? '', /refused access to s3:\/\/exports\/denied\//);
    await mailAbout(t, job.id);
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: 'exports', Prefix: 'denied/' }));
    assert.equal(listed.KeyCount ?? 0, 0);
    t.assertNoSecrets(['WRONG-SECRET-d41d8cd98f', 'WRONG-KEY-a1b2c3']);
  });

  test('no credential appears in any reply, email or log line of this file', async () => {
    assert.ok(t.logs.length > 10, 'the service logged');
    assert.ok(t.server.smtp.messages.length >= 5, 'mails were sent');
    const rows = await t.server.db.query<{ location_sealed: string }>(
      'SELECT location_sealed FROM tableport.jobs WHERE location_sealed IS NOT NULL',
    );
    assert.ok(rows.rows.length > 0);
    for (const r of rows.rows) assert.ok(!r.location_sealed.includes('S3RVER') && r.location_sealed.startsWith('tp1.'), 'sealed at rest');
    t.assertNoSecrets(['S3RVER', PRESIGNED_SECRET, '0123456789abcdefsecret']);
  });

  test("BullMQ's job data (stored in clear by the queue) holds ids only, never a connection", async () => {
    const stored = await storedJobData(t.server);
    assert.ok(stored.length > 0, 'queued jobs were found');
    for (const data of stored)
      assert.ok(!data.includes('S3RVER') && !data.includes('0123456789abcdefsecret') && !data.includes('connection'), data);
  });
});
