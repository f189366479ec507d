/**
 * `POST /oserve/v1/sql`: CnosDB's documented COPY INTO statements, run end to end against s3rver,
 * a fake GCS, azurite and server folders (each example with the endpoint of the local store added),
 * through the same export and import jobs as the REST tasks: files in the bucket, rows back in a
 * table, the minute rule, parse errors with their position, and no key in any reply, mail or log.
 */
import assert from 'node:assert/strict';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../helpers/ports.js';
import { startFakeGcs, type FakeGcs } from './fake-gcs.server.js';
import { mailAbout, startLocationServer, type LocationServer } from './rest-helpers.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, startS3rver, type RunningServer } from './servers.js';

const S3_PORT = await freePort();
const GCS_PORT = await freePort();
const AZ_PORT = await freePort();
const S3_ENDPOINT = `http://127.0.0.1:${S3_PORT}`;
const S3_CONNECTION = `region = 'us-east-1',\n    access_key_id = 'S3RVER',\n    secret_key = 'S3RVER',\n    endpoint_url = '${S3_ENDPOINT}'`;
const AIR = {
  fields: [
    { name: 'station', type: 'string' },
    { name: 'visibility', type: 'number' },
    { name: 'temperature', type: 'number' },
    { name: 'pressure', type: 'number' },
  ],
};
const AIR_ROWS = [
  { id: 'a1', created_at: 1700000000, station: 'XiaoMaiDao', visibility: 56, temperature: 69, pressure: 77 },
  { id: 'a2', created_at: 1700000060, station: 'XiaoMaiDao', visibility: 72, temperature: 62.5, pressure: 72 },
  { id: 'a3', created_at: 1700000120, station: 'LianYunGang', visibility: 61, temperature: 51, pressure: 70 },
];

describe('COPY INTO through POST /oserve/v1/sql', () => {
  let s3: RunningServer;
  let az: RunningServer;
  let gcs: FakeGcs;
  let raw: S3Client;
  let t: LocationServer;

  const sql = (statement: string) => t.task('/oserve/v1/sql', { sql: statement });
  const newTable = async (name: string) => {
    const res = await t.call('post', '/oserve/v1/table/', { name, schema: AIR });
    assert.equal(res.status, 201, res.text);
    return res.body.id as number;
  };
  const rowsOf = async (id: number) => {
    const res = await t.call('get', `/oserve/v1/table/${id}/record/?limit=100`);
    return (res.body.objects as Array<Record<string, unknown>>)
      .map((r) => [r.id, r.station, r.visibility, r.temperature, r.pressure])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  };
  const expected = AIR_ROWS.map((r) => [r.id, r.station, r.visibility, r.temperature, r.pressure]);
  const s3Keys = async (bucket: string, prefix: string) =>
    ((await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key ?? '');

  before(async () => {
    s3 = await startS3rver(S3_PORT, ['tmp', 'temp']);
    az = await startAzurite(AZ_PORT);
    await new BlobServiceClient(az.url, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY)).getContainerClient('tmp').create();
    gcs = await startFakeGcs({ port: GCS_PORT, buckets: ['tmp'] });
    raw = new S3Client({
      endpoint: S3_ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    t = await startLocationServer([`127.0.0.1:${S3_PORT}`, `127.0.0.1:${GCS_PORT}`, `127.0.0.1:${AZ_PORT}`]);
    const air = await newTable('air');
    const res = await t.call('post', `/oserve/v1/table/${air}/record/`, AIR_ROWS);
    assert.equal(res.status, 201, res.text);
  });
  after(async () => {
    raw.destroy();
    await t.close();
    await gcs.close();
    await az.close();
    await s3.close();
  });

  test("S3: CnosDB's CSV export writes the table's files under 's3://tmp/air', and the import reads them back", async () => {
    const out = await sql(
      `COPY INTO 's3://tmp/air' \nFROM "air"\nCONNECTION = (\n    ${S3_CONNECTION}\n)\nFILE_FORMAT = (\n  TYPE = 'CSV',\n  DELIMITER = ',',\n  WITH_HEADER = true\n);`,
    );
    assert.equal(out.status, 201, out.text);
    assert.deepEqual(Object.keys(out.body).sort(), ['job_id', 'status']);
    const job = await t.waitForJob(out.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 3);
    assert.match(job.destination_url ?? '', /^s3:\/\/tmp\/air\/air_\d{8}_\d{6}\.csv$/);
    assert.deepEqual(await s3Keys('tmp', 'air/'), [(job.destination_url ?? '').slice('s3://tmp/'.length)]);
    await mailAbout(t, job.id);

    const back = await newTable('air_back');
    const imp = await sql(
      `COPY INTO "air_back" \nFROM 's3://tmp/air'\nCONNECTION = (\n    ${S3_CONNECTION}\n)\nFILE_FORMAT (\n\t\tTYPE = 'CSV',\n\t\tDELIMITER = ',',\n\t\tWITH_HEADER = true\n)\nCOPY_OPTIONS (auto_infer_schema = false);`,
    );
    assert.equal(imp.status, 201, imp.text);
    const done = await t.waitForJob(imp.body.job_id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.errors));
    assert.equal(done.source_url, 's3://tmp/air/');
    assert.deepEqual(await rowsOf(back), expected);
  });

  test('GCS (a fake of the JSON API): JSON export and import back', async () => {
    const out = await sql(
      `COPY INTO 'gcs://tmp/air'\nFROM air\nCONNECTION = (\n    gcs_base_url = '${gcs.url}',\n    disable_oauth = true\n)\nFILE_FORMAT = (\n    TYPE = 'JSON'\n);`,
    );
    assert.equal(out.status, 201, out.text);
    const job = await t.waitForJob(out.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.match(job.destination_url ?? '', /^gcs:\/\/tmp\/air\/air_\d{8}_\d{6}\.json$/);
    const stored = [...gcs.objects.keys()];
    assert.deepEqual(stored, [(job.destination_url ?? '').slice('gcs://'.length)]);
    assert.equal(JSON.parse(gcs.objects.get(stored[0] ?? '')?.toString() ?? 'null').length, 3);

    const back = await newTable('air_gcs');
    const imp = await sql(
      `COPY INTO air_gcs FROM 'gcs://tmp/air' CONNECTION = (gcs_base_url = '${gcs.url}', disable_oauth = true) FILE_FORMAT = (TYPE = 'JSON')`,
    );
    assert.equal(imp.status, 201, imp.text);
    assert.equal((await t.waitForJob(imp.body.job_id)).status, 'succeeded');
    assert.deepEqual(await rowsOf(back), expected);
  });

  test('Azure Blob (azurite): CSV export with a key, and import back', async () => {
    const conn = `account = '${AZURITE_ACCOUNT}',\n    access_key = '${AZURITE_KEY}',\n    endpoint_url = '${az.url}'`;
    const out = await sql(
      `COPY INTO 'azblob://tmp/air'\nFROM "air"\nCONNECTION = (\n    ${conn}\n)\nFILE_FORMAT = (\n    TYPE = 'CSV',\n    DELIMITER = ',',\n    WITH_HEADER = true\n);`,
    );
    assert.equal(out.status, 201, out.text);
    const job = await t.waitForJob(out.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.match(job.destination_url ?? '', /^azblob:\/\/tmp\/air\/air_\d{8}_\d{6}\.csv$/);
    const names: string[] = [];
    const container = new BlobServiceClient(az.url, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY)).getContainerClient('tmp');
    for await (const b of container.listBlobsFlat({ prefix: 'air/' })) names.push(b.name);
    assert.deepEqual(names, [(job.destination_url ?? '').slice('azblob://tmp/'.length)]);

    const back = await newTable('air_az');
    const imp = await sql(`COPY INTO "air_az" FROM 'azblob://tmp/air' CONNECTION = (${conn}) FILE_FORMAT = (TYPE = 'CSV');`);
    assert.equal(imp.status, 201, imp.text);
    assert.equal((await t.waitForJob(imp.body.job_id)).status, 'succeeded');
    assert.deepEqual(await rowsOf(back), expected);
    t.assertNoSecrets([AZURITE_KEY]);
  });

  test('a server folder (file://): CSV without a header, with a column list on the way back', async () => {
    const dir = `file://${t.exportDir}/air`;
    const out = await sql(
      `COPY INTO '${dir}'\nFROM "air"\nFILE_FORMAT = (\n    TYPE = 'CSV',\n  \tDELIMITER=';',\n  \tWITH_HEADER=false\n);`,
    );
    assert.equal(out.status, 201, out.text);
    const job = await t.waitForJob(out.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const files = await readdir(join(t.exportDir, 'air'));
    assert.equal(files.length, 1);
    assert.match(files[0] ?? '', /^air_\d{8}_\d{6}\.csv$/);
  });

  test('the same minute rule as REST tasks: a second export of a table within the interval is too_frequent', async () => {
    const statement = `COPY INTO 's3://tmp/minute/' FROM air CONNECTION = (${S3_CONNECTION})`;
    const first = await sql(statement);
    assert.equal(first.status, 201, first.text);
    const second = await t.call('post', '/oserve/v1/sql', { sql: statement });
    assert.equal(second.status, 400);
    assert.equal(second.body.error_code, 'too_frequent');
    await t.waitForJob(first.body.job_id);
  });

  test('a statement that does not parse is 400 invalid_parameter with its position; an unknown table is 404', async () => {
    const bad = await t.call('post', '/oserve/v1/sql', { sql: "COPY INTO 's3://tmp/x'\n  air" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'invalid_parameter');
    assert.equal(bad.body.parameter, 'sql');
    assert.deepEqual([bad.body.details.line, bad.body.details.column], [2, 3]);
    assert.match(bad.body.error_msg, /\(line 2, column 3\)\.$/);

    const secretInOption = await t.call('post', '/oserve/v1/sql', {
      sql: "COPY INTO 's3://tmp/x' FROM air CONNECTION = (secret_key = 'TOPSECRET-in-a-bad-statement' oops)",
    });
    assert.equal(secretInOption.status, 400);
    assert.doesNotMatch(secretInOption.text, /TOPSECRET/);

    for (const body of [{}, { sql: '' }, { sql: 42 }, { statement: 'COPY' }]) {
      const r = await t.call('post', '/oserve/v1/sql', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.parameter, 'sql');
    }
    const missing = await t.call('post', '/oserve/v1/sql', {
      sql: `COPY INTO 's3://tmp/x/' FROM no_such_table CONNECTION = (${S3_CONNECTION})`,
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error_code, 'not_found');
    assert.match(missing.body.error_msg, /no_such_table/);
    const refused = await t.call('post', '/oserve/v1/sql', {
      sql: "COPY INTO 's3://tmp/x/' FROM air CONNECTION = (endpoint_url = 'http://169.254.169.254/')",
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error_msg, /^Refusing to connect to 169\.254\.169\.254/);
    const needsNoHeader = await t.call('post', '/oserve/v1/sql', { sql: "COPY INTO air (station, visibility) FROM 's3://tmp/air/'" });
    assert.equal(needsNoHeader.status, 400);
  });

  test('no key of any statement appears in a reply, a mail or a log line', () => {
    assert.ok(t.logs.length > 10);
    t.assertNoSecrets(['S3RVER', AZURITE_KEY, 'TOPSECRET']);
  });
});
