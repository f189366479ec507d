import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { NotFoundError } from '../../../src/errors.js';
import { LocalStorageDriver } from '../../../src/storage/local.driver.js';
import { exportFileKey, InvalidStorageKeyError, keySegments } from '../../../src/storage/storage.driver.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** `total` bytes in `chunk`-sized pieces, made on demand so nothing holds the whole file. */
function generated(total: number, chunk = 64 * 1024): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(chunk, total - sent);
      const buf = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) buf[i] = (sent + i) % 251;
      sent += n;
      this.push(buf);
    },
  });
}

/** Emits some bytes, then fails, like a database cursor that loses its connection mid-export. */
function failing(afterBytes: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= afterBytes) return void this.destroy(new Error('source broke'));
      sent += 1024;
      this.push(Buffer.alloc(1024, 120));
    },
  });
}

describe('LocalStorageDriver', () => {
  let root: string;
  let storage: LocalStorageDriver;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tableport-storage-'));
    storage = new LocalStorageDriver(root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('put then get returns the same bytes, and stat their size', async () => {
    const key = exportFileKey('job1', 'orders.csv');
    const bytes = Buffer.from('id,title\n1,"café ✓"\n');
    assert.deepEqual(await storage.put(key, Readable.from([bytes])), { size: bytes.length });
    assert.deepEqual(await readAll(await storage.get(key)), bytes);
    const info = await storage.stat(key);
    assert.equal(info?.size, bytes.length);
    assert.ok(info?.mtime instanceof Date);
    assert.equal(await readFile(join(root, 'exports', 'job1', 'orders.csv'), 'utf8'), bytes.toString());
  });

  test('a large file streams through without being held in memory', async () => {
    const size = 96 * 1024 * 1024;
    const key = 'exports/big/big.bin';
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - base)), 5);
    try {
      // The generator is deterministic: hash one run of it, store another.
      const hashIn = createHash('sha256');
      for await (const c of generated(size)) hashIn.update(c as Buffer);
      assert.deepEqual(await storage.put(key, generated(size)), { size });
      const hashOut = createHash('sha256');
      let read = 0;
      for await (const c of await storage.get(key)) {
        hashOut.update(c as Buffer);
        read += (c as Buffer).length;
      }
      assert.equal(read, size);
      assert.equal(hashOut.digest('hex'), hashIn.digest('hex'));
    } finally {
      clearInterval(sample);
    }
    // A buffered implementation would need the whole 96 MiB at once.
    assert.ok(peak < size / 2, `peak external memory ${Math.round(peak / 2 ** 20)} MiB`);
    await storage.delete(key);
  });

  test('get with a range returns that slice (both ends inclusive)', async () => {
    const key = 'exports/range/digits.txt';
    await storage.put(key, Readable.from([Buffer.from('0123456789')]));
    assert.equal((await readAll(await storage.get(key, { start: 2, end: 5 }))).toString(), '2345');
    assert.equal((await readAll(await storage.get(key, { start: 7 }))).toString(), '789');
    await assert.rejects(storage.get(key, { start: 5, end: 2 }), RangeError);
  });

  test('a put whose source fails leaves no file and no temp file', async () => {
    const key = 'exports/broken/out.csv';
    await assert.rejects(storage.put(key, failing(256 * 1024)), /source broke/);
    assert.equal(await storage.stat(key), null);
    assert.deepEqual(await readdir(join(root, 'exports', 'broken')), []);
  });

  test('a source that fails before put reads from it rejects the put (and does not crash)', async () => {
    const source = new Readable({ read() {} });
    process.nextTick(() => source.destroy(new Error('failed at once')));
    await assert.rejects(storage.put('exports/early/out.csv', source), /failed at once/);
    assert.deepEqual(await readdir(join(root, 'exports', 'early')), []);
  });

  test('a failed re-run keeps the previous file whole; a good re-run overwrites it', async () => {
    const key = 'exports/rerun/out.csv';
    await storage.put(key, Readable.from([Buffer.from('first')]));
    await assert.rejects(storage.put(key, failing(8 * 1024)));
    assert.equal((await readAll(await storage.get(key))).toString(), 'first');
    await storage.put(key, Readable.from([Buffer.from('second, longer')]));
    assert.equal((await readAll(await storage.get(key))).toString(), 'second, longer');
    assert.deepEqual(await readdir(join(root, 'exports', 'rerun')), ['out.csv']);
  });

  test('two concurrent puts of one key leave one whole version', async () => {
    const key = 'exports/race/out.bin';
    const a = Buffer.alloc(300_000, 97);
    const b = Buffer.alloc(200_000, 98);
    await Promise.all([storage.put(key, generatedFrom(a)), storage.put(key, generatedFrom(b))]);
    const got = await readAll(await storage.get(key));
    assert.ok(got.equals(a) || got.equals(b));
    assert.deepEqual(await readdir(join(root, 'exports', 'race')), ['out.bin']);
  });

  test('putFile moves a local file under the key', async () => {
    const local = join(root, 'upload-123');
    await writeFile(local, 'a,b\n1,2\n');
    assert.deepEqual(await storage.putFile('imports/j9/data.csv', local), { size: 8 });
    await assert.rejects(stat(local), { code: 'ENOENT' });
    assert.equal((await readAll(await storage.get('imports/j9/data.csv'))).toString(), 'a,b\n1,2\n');
  });

  test('putFile copies across filesystems and removes the original', async (t) => {
    // /dev/shm is a tmpfs on Linux; when it is the same device as the storage there is nothing to test.
    const shm = '/dev/shm';
    const [shmDev, rootDev] = await Promise.all([stat(shm).then((s) => s.dev, () => null), stat(root).then((s) => s.dev)]);
    if (shmDev === null || shmDev === rootDev) return t.skip('no second filesystem available');
    const dir = await mkdtemp(join(shm, 'tableport-upload-'));
    try {
      const local = join(dir, 'upload');
      await writeFile(local, 'x'.repeat(5000));
      assert.deepEqual(await storage.putFile('imports/xdev/data.csv', local), { size: 5000 });
      await assert.rejects(stat(local), { code: 'ENOENT' });
      assert.deepEqual(await readdir(join(root, 'imports', 'xdev')), ['data.csv']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a missing file: get rejects with NotFoundError, stat is null, delete is fine', async () => {
    await assert.rejects(storage.get('exports/nope/x.csv'), NotFoundError);
    await assert.rejects(storage.get('exports'), NotFoundError); // a folder is not a file
    assert.equal(await storage.stat('exports/nope/x.csv'), null);
    await storage.delete('exports/nope/x.csv');
  });

  test('delete removes the file; deletePrefix removes a folder and not its look-alike sibling', async () => {
    await storage.put('exports/p1/a.csv', Readable.from(['a']));
    await storage.put('exports/p1/b.csv', Readable.from(['b']));
    await storage.put('exports/p10/a.csv', Readable.from(['c']));
    await storage.delete('exports/p1/a.csv');
    assert.equal(await storage.stat('exports/p1/a.csv'), null);
    await storage.deletePrefix('exports/p1');
    assert.equal(await storage.stat('exports/p1/b.csv'), null);
    assert.equal((await storage.stat('exports/p10/a.csv'))?.size, 1);
    await storage.deletePrefix('exports/p1'); // again: nothing there, no error
  });

  test('keys that could leave the storage folder are refused by every method', async () => {
    const bad = ['../x', 'exports/../../etc/passwd', '/etc/passwd', 'a//b', 'a/./b', '', 'a/b\0.csv', 'a\\..\\b', 'C:/x', 'x/'];
    for (const key of bad) {
      assert.throws(() => keySegments(key), InvalidStorageKeyError, JSON.stringify(key));
      await assert.rejects(storage.put(key, Readable.from(['x'])), InvalidStorageKeyError, JSON.stringify(key));
      await assert.rejects(storage.get(key), InvalidStorageKeyError);
      await assert.rejects(storage.stat(key), InvalidStorageKeyError);
      await assert.rejects(storage.delete(key), InvalidStorageKeyError);
      await assert.rejects(storage.putFile(key, join(root, 'nothing')), InvalidStorageKeyError);
    }
    await assert.rejects(storage.deletePrefix('..'), InvalidStorageKeyError);
    assert.throws(() => exportFileKey('job', '../x.csv'), InvalidStorageKeyError);
    assert.throws(() => exportFileKey('a/b', 'x.csv'), InvalidStorageKeyError);
    assert.equal(new InvalidStorageKeyError('x', 'y').toResponse().error_code, 'invalid_parameter');
  });
});

function generatedFrom(buf: Buffer): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (off >= buf.length) return void this.push(null);
      this.push(buf.subarray(off, off + 16 * 1024));
      off += 16 * 1024;
    },
  });
}
