/**
 * The service storage's contract, as tests every place it can be configured on must pass: a local
 * folder (local.driver.test.ts) and an S3 bucket on s3rver (test/integration/storage/s3.driver.test.ts)
 * run the same cases, so a service that works on one works on the other.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { readAll } from '../../helpers/streams.js';
import { NotFoundError } from '../../../src/errors.js';
import { exportFileKey, InvalidStorageKeyError, keySegments, type ServiceStorage } from '../../../src/storage/index.js';

export interface StorageContractFixture {
  storage: ServiceStorage;
  /** Size of the streamed big file; the peak memory allowed is half of it. */
  bigSize: number;
  /** Frees what the fixture started. */
  close(): Promise<void>;
}

export { readAll };

/**
 * A full collection on demand, so a memory reading counts what is held, not garbage the collector
 * has not reached yet (which depends on the machine's load, and made this measure flaky).
 */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** `total` bytes in `chunk`-sized pieces, made on demand so nothing holds the whole file. */
export function generated(total: number, chunk = 64 * 1024): Readable {
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
export function failing(afterBytes: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= afterBytes) return void this.destroy(new Error('source broke'));
      sent += 1024;
      this.push(Buffer.alloc(1024, 120));
    },
  });
}

export function generatedFrom(buf: Buffer): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (off >= buf.length) return void this.push(null);
      this.push(buf.subarray(off, off + 16 * 1024));
      off += 16 * 1024;
    },
  });
}

export function describeStorageContract(name: string, setup: () => Promise<StorageContractFixture>): void {
  describe(`${name}: the ServiceStorage contract`, () => {
    let f: StorageContractFixture;
    let storage: ServiceStorage;
    let scratch: string;
    before(async () => {
      f = await setup();
      storage = f.storage;
      scratch = await mkdtemp(join(tmpdir(), 'tableport-contract-'));
    });
    after(async () => {
      await f.close();
      await rm(scratch, { recursive: true, force: true });
    });

    test('put then get returns the same bytes, and stat their size', async () => {
      const key = exportFileKey('job1', 'orders.csv');
      const bytes = Buffer.from('id,title\n1,"café ✓"\n');
      assert.deepEqual(await storage.put(key, Readable.from([bytes])), { size: bytes.length });
      assert.deepEqual(await readAll(await storage.get(key)), bytes);
      const info = await storage.stat(key);
      assert.equal(info?.size, bytes.length);
      assert.ok(info?.mtime instanceof Date);
    });

    test('an empty file is a file', async () => {
      assert.deepEqual(await storage.put('exports/empty/e.csv', Readable.from([])), { size: 0 });
      assert.equal((await storage.stat('exports/empty/e.csv'))?.size, 0);
      assert.equal((await readAll(await storage.get('exports/empty/e.csv'))).length, 0);
    });

    test('a large file streams through without being held in memory', async () => {
      const size = f.bigSize;
      const key = 'exports/big/big.bin';
      const limit = size / 2;
      const gc = collector();
      gc();
      const base = process.memoryUsage().arrayBuffers;
      let peak = 0;
      const held = () => {
        let now = process.memoryUsage().arrayBuffers - base;
        // Over the limit, collect and look again: only what is still held counts. A full collection
        // at every sample would take longer than the transfer.
        if (now >= limit) {
          gc();
          now = process.memoryUsage().arrayBuffers - base;
        }
        peak = Math.max(peak, now);
      };
      const sample = setInterval(held, 5);
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
        held();
      } finally {
        clearInterval(sample);
      }
      // A buffered implementation would need the whole file at once.
      assert.ok(peak < limit, `peak external memory ${Math.round(peak / 2 ** 20)} MiB`);
      await storage.delete(key);
    });

    test('get with a range returns that slice (both ends inclusive)', async () => {
      const key = 'exports/range/digits.txt';
      await storage.put(key, Readable.from([Buffer.from('0123456789')]));
      assert.equal((await readAll(await storage.get(key, { start: 2, end: 5 }))).toString(), '2345');
      assert.equal((await readAll(await storage.get(key, { start: 7 }))).toString(), '789');
      await assert.rejects(storage.get(key, { start: 5, end: 2 }), RangeError);
    });

    test('a put whose source fails rejects with its error and leaves no file', async () => {
      const key = 'exports/broken/out.csv';
      await assert.rejects(storage.put(key, failing(256 * 1024)), /source broke/);
      assert.equal(await storage.stat(key), null);
    });

    test('a source that fails before put reads from it rejects the put (and does not crash)', async () => {
      const source = new Readable({ read() {} });
      process.nextTick(() => source.destroy(new Error('failed at once')));
      await assert.rejects(storage.put('exports/early/out.csv', source), /failed at once/);
      assert.equal(await storage.stat('exports/early/out.csv'), null);
    });

    test('a failed re-run keeps the previous file whole; a good re-run overwrites it', async () => {
      const key = 'exports/rerun/out.csv';
      await storage.put(key, Readable.from([Buffer.from('first')]));
      await assert.rejects(storage.put(key, failing(8 * 1024)));
      assert.equal((await readAll(await storage.get(key))).toString(), 'first');
      await storage.put(key, Readable.from([Buffer.from('second, longer')]));
      assert.equal((await readAll(await storage.get(key))).toString(), 'second, longer');
    });

    // Real S3 and the local driver replace an object whole. s3rver writes concurrent PUTs of one key
    // into the same file, so on s3rver this holds only while the two bodies do not interleave (with
    // 16 KiB stream buffers they do not; with 1 MiB ones, b overwrote the start of a).
    test('two concurrent puts of one key leave one whole version', async () => {
      const key = 'exports/race/out.bin';
      const a = Buffer.alloc(300_000, 97);
      const b = Buffer.alloc(200_000, 98);
      await Promise.all([storage.put(key, generatedFrom(a)), storage.put(key, generatedFrom(b))]);
      const got = await readAll(await storage.get(key));
      assert.ok(got.equals(a) || got.equals(b), `got ${got.length} bytes: ${got.subarray(0, 3)}…${got.subarray(-3)}`);
    });

    test('putFile stores a local file under the key and removes the local file', async () => {
      const local = join(scratch, 'upload-123');
      await writeFile(local, 'a,b\n1,2\n');
      assert.deepEqual(await storage.putFile('imports/j9/data.csv', local), { size: 8 });
      await assert.rejects(stat(local), { code: 'ENOENT' });
      assert.equal((await readAll(await storage.get('imports/j9/data.csv'))).toString(), 'a,b\n1,2\n');
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
      await storage.put('exports/p1/sub/c.csv', Readable.from(['c']));
      await storage.put('exports/p10/a.csv', Readable.from(['c']));
      await storage.delete('exports/p1/a.csv');
      assert.equal(await storage.stat('exports/p1/a.csv'), null);
      assert.ok(storage.deletePrefix, 'the driver can remove a folder');
      await storage.deletePrefix('exports/p1');
      assert.equal(await storage.stat('exports/p1/b.csv'), null);
      assert.equal(await storage.stat('exports/p1/sub/c.csv'), null);
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
        await assert.rejects(storage.putFile(key, join(scratch, 'nothing')), InvalidStorageKeyError);
      }
      await assert.rejects(storage.deletePrefix?.('..') ?? Promise.reject(new InvalidStorageKeyError('..', 'x')), InvalidStorageKeyError);
    });
  });
}
