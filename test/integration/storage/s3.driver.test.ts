/**
 * The S3 storage driver (STORAGE_URL=s3://...) against s3rver: the same contract as the local
 * driver, plus where the objects land (under the URL's prefix) and multipart uploads of big files.
 */
import assert from 'node:assert/strict';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../../src/config.js';
import type { S3DriverOptions } from '../../../src/locations/s3.driver.js';
import { createStorage, type ServiceStorage } from '../../../src/storage/index.js';
import { context } from '../locations/helpers.js';
import { describeStorageContract } from '../../unit/storage/storage-contract.js';
import { startS3rver, type RunningServer } from '../locations/servers.js';
import { freePort } from '../../helpers/ports.js';

const PORT = await freePort();
const ENDPOINT = `http://127.0.0.1:${PORT}`;
const KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** The service's storage on a bucket (STORAGE_URL), on the s3:// location driver. */
function driver(prefix: string, opts: S3DriverOptions = {}): ServiceStorage & { close(): void } {
  const storageS3 = { bucket: 'files', prefix, endpoint: ENDPOINT, region: 'us-east-1', ...KEYS };
  // Every storage createStorage makes can be closed.
  return createStorage({ storageDir: '', storageS3 }, { ...context(), s3: opts }) as ServiceStorage & { close(): void };
}

let server: RunningServer;
before(async () => {
  server = await startS3rver(PORT, ['files']);
});
after(async () => {
  await server.close();
});

describeStorageContract('S3StorageDriver (s3rver)', async () => {
  // Parts of 5 MiB (S3's minimum) and listings of 2 keys a page, so multipart and paging both run.
  // The upload's own buffers (~3 parts) and garbage not yet collected come to 40-65 MiB at any
  // size (measured at 48, 96 and 192 MiB), so the file is big enough for that to be under half of
  // it: a buffered put would need all 192 MiB.
  const storage = driver('contract/', { partSize: 5 * 1024 * 1024, listPageSize: 2 });
  return { storage, bigSize: 192 * 1024 * 1024, close: async () => storage.close() };
});

describe('S3StorageDriver: where objects land', () => {
  let raw: S3Client;
  before(() => {
    raw = new S3Client({ endpoint: ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: KEYS });
  });
  after(() => raw.destroy());

  const keysUnder = async (prefix: string) =>
    ((await raw.send(new ListObjectsV2Command({ Bucket: 'files', Prefix: prefix }))).Contents ?? []).map((o) => o.Key);

  test('keys live under the STORAGE_URL prefix, and nothing outside it is touched', async () => {
    const a = driver('tp/one/');
    const b = driver('tp/two/');
    await a.put('exports/j1/x.csv', Readable.from(['1']));
    await b.put('exports/j1/x.csv', Readable.from(['22']));
    assert.deepEqual(await keysUnder('tp/'), ['tp/one/exports/j1/x.csv', 'tp/two/exports/j1/x.csv']);
    await a.deletePrefix('exports/j1');
    assert.deepEqual(await keysUnder('tp/'), ['tp/two/exports/j1/x.csv']);
    assert.equal((await b.stat('exports/j1/x.csv'))?.size, 2);
    a.close();
    b.close();
  });

  test('STORAGE_URL and its variables become the driver settings', () => {
    const env = { SIGNING_SECRET: 'x'.repeat(32), STORAGE_URL: 's3://files/tp/one/', STORAGE_S3_ENDPOINT: ENDPOINT };
    const c = loadConfig({ ...env, STORAGE_S3_ACCESS_KEY_ID: 'S3RVER', STORAGE_S3_SECRET_ACCESS_KEY: 'S3RVER' });
    assert.deepEqual(c.storageS3, {
      bucket: 'files',
      prefix: 'tp/one/',
      endpoint: ENDPOINT,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
    assert.equal(loadConfig({ ...env, STORAGE_URL: 's3://files' }).storageS3?.prefix, '');
    assert.equal(loadConfig({ SIGNING_SECRET: 'x'.repeat(32) }).storageS3, undefined);
    assert.throws(() => loadConfig({ ...env, STORAGE_URL: 'gs://files/x' }), /STORAGE_URL: must be s3:\/\/bucket/);
    assert.throws(() => loadConfig({ ...env, STORAGE_URL: 's3://files/a/../b' }), /STORAGE_URL: the prefix must not/);
    assert.throws(() => loadConfig({ ...env, STORAGE_S3_ACCESS_KEY_ID: 'only-one' }), /give both or neither/);
  });
});
