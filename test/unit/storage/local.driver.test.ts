import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createStorage, exportFileKey, InvalidStorageKeyError, type ServiceStorage } from '../../../src/storage/index.js';
import { context } from '../../integration/locations/helpers.js';
import { describeStorageContract, failing, generatedFrom, readAll } from './storage-contract.js';

/** The service's storage on a folder (STORAGE_DIR), on the file:// location driver. */
function local(root: string): ServiceStorage {
  return createStorage({ storageDir: root, storageS3: undefined }, context());
}

describeStorageContract('LocalStorageDriver', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tableport-storage-'));
  return {
    storage: local(root),
    bigSize: 96 * 1024 * 1024,
    close: () => rm(root, { recursive: true, force: true }),
  };
});

/** What only a folder on disk shows: the file's path, and that no temp file is left beside it. */
describe('LocalStorageDriver on disk', () => {
  let root: string;
  let storage: ServiceStorage;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tableport-storage-'));
    storage = local(root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a key is a path under the root', async () => {
    await storage.put(exportFileKey('job1', 'orders.csv'), Readable.from([Buffer.from('id\n1\n')]));
    assert.equal(await readFile(join(root, 'exports', 'job1', 'orders.csv'), 'utf8'), 'id\n1\n');
  });

  test('failed puts leave no temp file behind', async () => {
    await assert.rejects(storage.put('exports/broken/out.csv', failing(256 * 1024)), /source broke/);
    assert.deepEqual(await readdir(join(root, 'exports', 'broken')), []);
    const source = new Readable({ read() {} });
    process.nextTick(() => source.destroy(new Error('failed at once')));
    await assert.rejects(storage.put('exports/early/out.csv', source), /failed at once/);
    assert.deepEqual(await readdir(join(root, 'exports', 'early')), []);
  });

  test('re-runs and concurrent puts leave only the file', async () => {
    const key = 'exports/rerun/out.csv';
    await storage.put(key, Readable.from([Buffer.from('first')]));
    await assert.rejects(storage.put(key, failing(8 * 1024)));
    await Promise.all([
      storage.put(key, generatedFrom(Buffer.alloc(300_000, 97))),
      storage.put(key, generatedFrom(Buffer.alloc(200_000, 98))),
    ]);
    assert.deepEqual(await readdir(join(root, 'exports', 'rerun')), ['out.csv']);
  });

  test('putFile copies across filesystems and removes the original', async (t) => {
    // /dev/shm is a tmpfs on Linux; when it is the same device as the storage there is nothing to test.
    const shm = '/dev/shm';
    const [shmDev, rootDev] = await Promise.all([
      stat(shm).then(
        (s) => s.dev,
        () => null,
      ),
      stat(root).then((s) => s.dev),
    ]);
    if (shmDev === null || shmDev === rootDev) return t.skip('no second filesystem available');
    const dir = await mkdtemp(join(shm, 'tableport-upload-'));
    try {
      const local = join(dir, 'upload');
      await writeFile(local, 'x'.repeat(5000));
      assert.deepEqual(await storage.putFile('imports/xdev/data.csv', local), { size: 5000 });
      await assert.rejects(stat(local), { code: 'ENOENT' });
      assert.deepEqual(await readdir(join(root, 'imports', 'xdev')), ['data.csv']);
      assert.equal((await readAll(await storage.get('imports/xdev/data.csv'))).length, 5000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the key helpers refuse names that hold a "/"', () => {
    assert.throws(() => exportFileKey('job', '../x.csv'), InvalidStorageKeyError);
    assert.throws(() => exportFileKey('a/b', 'x.csv'), InvalidStorageKeyError);
    assert.equal(new InvalidStorageKeyError('x', 'y').toResponse().error_code, 'invalid_parameter');
  });
});
