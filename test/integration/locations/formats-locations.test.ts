/**
 * Every format the server writes and reads, through a location: NDJSON, Parquet, xlsx and gzip
 * round trips through S3 (s3rver), CnosDB's CSV dialect options on the way out and a column list
 * on the way back, and COPY_OPTIONS (auto_infer_schema = true) making the table from the file.
 */
import assert from 'node:assert/strict';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../helpers/ports.js';
import { startS3rver, type RunningServer } from './servers.js';
import { startLocationServer, type LocationServer } from './rest-helpers.js';

// The kernel's choice: a fixed port is shared with the same file run from another worktree.
const PORT = await freePort();
const ENDPOINT = `http://127.0.0.1:${PORT}`;
const S3 = { endpoint_url: ENDPOINT, access_key_id: 'S3RVER', secret_key: 'S3RVER' };
const SQL_S3 = `CONNECTION = (endpoint_url = '${ENDPOINT}', access_key_id = 'S3RVER', secret_key = 'S3RVER')`;
const SCHEMA = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
    { name: 'price', type: 'number' },
    { name: 'paid', type: 'boolean' },
    { name: 'tags', type: 'array' },
  ],
};
const ROWS = [
  { id: 'r1', created_at: 1700000000, title: 'plain', qty: 1, price: 1.5, paid: true, tags: ['a'] },
  { id: 'r2', created_at: 1700000001, title: 'comma, "quote"; semi', qty: -2, price: 0.25, paid: false, tags: [] },
  { id: 'r3', created_at: 1700000002, title: '中文 ✓', qty: null, price: null, paid: null, tags: null },
];

describe('formats through locations', () => {
  let s3: RunningServer;
  let raw: S3Client;
  let t: LocationServer;
  let source: number;

  const object = async (key: string) =>
    Buffer.from((await (await raw.send(new GetObjectCommand({ Bucket: 'fmt', Key: key }))).Body?.transformToByteArray()) ?? []);
  const newTable = async (name: string) => {
    const res = await t.call('post', '/oserve/v1/table/', { name, schema: SCHEMA });
    assert.equal(res.status, 201, res.text);
    return res.body.id as number;
  };
  const rowsOf = async (id: number) => {
    const res = await t.call('get', `/oserve/v1/table/${id}/record/?limit=100&order_by=id`);
    return (res.body.objects as Array<Record<string, unknown>>).map((r) => [r.id, r.created_at, r.title, r.qty, r.price, r.paid, r.tags]);
  };
  const expected = ROWS.map((r) => [r.id, r.created_at, r.title, r.qty, r.price, r.paid, r.tags]);

  before(async () => {
    s3 = await startS3rver(PORT, ['fmt']);
    raw = new S3Client({
      endpoint: ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    t = await startLocationServer([`127.0.0.1:${PORT}`]);
    source = await newTable('source');
    const res = await t.call('post', `/oserve/v1/table/${source}/record/`, ROWS);
    assert.equal(res.status, 201, res.text);
  });
  after(async () => {
    raw.destroy();
    await t.close();
    await s3.close();
  });

  for (const [fileType, extra, check] of [
    ['ndjson', {}, (b: Buffer) => assert.equal(b.toString().trim().split('\n').length, 3)],
    ['parquet', {}, (b: Buffer) => assert.equal(b.subarray(0, 4).toString(), 'PAR1')],
    ['xlsx', {}, (b: Buffer) => assert.equal(b.subarray(0, 2).toString(), 'PK')],
    ['csv', { compression: 'gzip' }, (b: Buffer) => assert.equal(gunzipSync(b).toString().trim().split('\n').length, 4)],
    ['json', { compression: 'gzip' }, (b: Buffer) => assert.equal(JSON.parse(gunzipSync(b).toString()).length, 3)],
  ] as const) {
    test(`${fileType}${'compression' in extra ? ' (gzip)' : ''}: exported to S3, read back by content`, async () => {
      const out = await t.task(`/oserve/v1/table/${source}/export/`, {
        file_type: fileType,
        mode: 'all',
        destination: `s3://fmt/${fileType}/`,
        connection: S3,
        ...extra,
      });
      assert.equal(out.status, 201, out.text);
      const job = await t.waitForJob(out.body.job_id);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
      const key = (job.destination_url ?? '').replace('s3://fmt/', '');
      assert.match(key, new RegExp(`^${fileType}/source_\\d{8}_\\d{6}\\.${fileType}${'compression' in extra ? '\\.gz' : ''}$`));
      check(await object(key));

      const back = await newTable(`back_${fileType}_${'compression' in extra ? 'gz' : 'plain'}`);
      // No file_type: the format (and the gzip) come from the content.
      const imp = await t.task(`/oserve/v1/table/${back}/import/`, { source: job.destination_url, connection: S3 });
      assert.equal(imp.status, 201, imp.text);
      const done = await t.waitForJob(imp.body.job_id);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.errors));
      assert.deepEqual(await rowsOf(back), expected);
    });
  }

  test("CnosDB's CSV options: DELIMITER and WITH_HEADER = false out, a column list back", async () => {
    const out = await t.task('/oserve/v1/sql', {
      sql: `COPY INTO 'file://${t.exportDir}/semi' FROM source FILE_FORMAT = (TYPE = 'CSV', DELIMITER = ';', WITH_HEADER = false)`,
    });
    assert.equal(out.status, 201, out.text);
    const job = await t.waitForJob(out.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const text = await readFile(new URL(job.destination_url ?? ''), 'utf8');
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 3, 'no header line');
    assert.match(lines[0] ?? '', /^r1;1700000000;\d+;\d+;plain;1;1\.5;true;/);

    // The same file, from IMPORT_DIR, named column by column.
    const { copyFile, mkdir } = await import('node:fs/promises');
    await mkdir(`${t.importDir}/semi`, { recursive: true });
    await copyFile(new URL(job.destination_url ?? ''), `${t.importDir}/semi/rows.csv`);
    const back = await newTable('back_semi');
    const imp = await t.task('/oserve/v1/sql', {
      sql: `COPY INTO back_semi (id, created_at, updated_at, created_by, title, qty, price, paid, "tags") FROM 'file://${t.importDir}/semi/' FILE_FORMAT = (TYPE = 'CSV', DELIMITER = ';', WITH_HEADER = false)`,
    });
    assert.equal(imp.status, 201, imp.text);
    const done = await t.waitForJob(imp.body.job_id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.errors));
    assert.deepEqual(await rowsOf(back), expected);
  });

  test('COPY_OPTIONS (auto_infer_schema = true) creates a missing table from the file; without it, an unknown table is 404', async () => {
    const out = await t.task('/oserve/v1/sql', { sql: `COPY INTO 's3://fmt/air' FROM source ${SQL_S3} FILE_FORMAT = (TYPE = 'PARQUET')` });
    assert.equal(out.status, 201, out.text);
    assert.equal((await t.waitForJob(out.body.job_id)).status, 'succeeded');

    const missing = await t.call('post', '/oserve/v1/sql', {
      sql: `COPY INTO inferred FROM 's3://fmt/air' ${SQL_S3} FILE_FORMAT = (TYPE = 'PARQUET')`,
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error_code, 'not_found');

    const res = await t.task('/oserve/v1/sql', {
      sql: `COPY INTO inferred FROM 's3://fmt/air' ${SQL_S3} FILE_FORMAT = (TYPE = 'PARQUET') COPY_OPTIONS = (auto_infer_schema = true)`,
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(typeof res.body.table_id, 'number');
    const job = await t.waitForJob(res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 3);
    const table = await t.call('get', `/oserve/v1/table/${res.body.table_id}/`);
    assert.equal(table.body.name, 'inferred');
    const types = Object.fromEntries((table.body.schema.fields as Array<{ name: string; type: string }>).map((f) => [f.name, f.type]));
    // Parquet keeps array cells as JSON text (the contract); inference reads that text as the import
    // would, so the field is an array again, as a CSV export's is.
    assert.deepEqual(types, { title: 'string', qty: 'integer', price: 'number', paid: 'boolean', tags: 'array' });
    assert.deepEqual(await rowsOf(res.body.table_id as number), expected);

    // The table exists now: the same statement appends to it (and, with the same ids, fails whole).
    const again = await t.task('/oserve/v1/sql', {
      sql: `COPY INTO inferred FROM 's3://fmt/air' ${SQL_S3} COPY_OPTIONS = (auto_infer_schema = true)`,
    });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.body.table_id, undefined);
    const dup = await t.waitForJob(again.body.job_id);
    assert.equal(dup.status, 'failed');
    assert.equal((await rowsOf(res.body.table_id as number)).length, 3);
  });

  test('no key in any reply, mail or log line', () => {
    t.assertNoSecrets(['S3RVER']);
  });
});
