import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvalidParameterError, LocationNotFoundError } from '../../../src/errors.js';
import { readSources, resolveLocation, writeTarget, type LocationContext } from '../../../src/locations/index.js';
import { collect, context, generated, sha256Of, sha256OfGenerated, writeAll } from '../../integration/locations/helpers.js';

describe('file:// locations', () => {
  let base: string;
  let exportDir: string;
  let importDir: string;
  let outside: string;
  let ctx: LocationContext;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'tableport-file-loc-'));
    exportDir = join(base, 'exports');
    importDir = join(base, 'imports');
    outside = join(base, 'outside');
    for (const d of [exportDir, importDir, outside]) await mkdir(d);
    await writeFile(join(outside, 'secret.csv'), 'id\n1\n');
    await symlink(outside, join(importDir, 'escape'));
    await symlink(join(outside, 'secret.csv'), join(importDir, 'link.csv'));
    await symlink(outside, join(exportDir, 'escape'));
    ctx = context({ exportDir, importDir });
  });

  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const refused = (fn: () => unknown, re: RegExp): void => {
    assert.throws(fn, (e: unknown) => e instanceof InvalidParameterError && re.test(e.message));
  };
  const refusedAsync = async (p: Promise<unknown>, re: RegExp): Promise<void> => {
    await assert.rejects(p, (e: unknown) => e instanceof InvalidParameterError && re.test(e.message));
  };

  test('an export into a folder gets the file name, is written whole, and reads back', async () => {
    const { location, driver } = resolveLocation(`file://${exportDir}/nightly/`, undefined, ctx, 'write');
    const target = writeTarget(location, 'orders 1.csv');
    const w = driver.openWrite(target);
    await writeAll(generated(3 * 1024 * 1024 + 1), w.stream);
    const done = await w.done;
    assert.equal(done.size, 3 * 1024 * 1024 + 1);
    assert.equal(done.url, `file://${exportDir}/nightly/orders%201.csv`);
    assert.deepEqual(await readdir(join(exportDir, 'nightly')), ['orders 1.csv'], 'no temp file left');
    const back = resolveLocation(done.url, undefined, context({ importDir: exportDir }), 'read');
    const r = await back.driver.openRead(back.location);
    assert.equal((await sha256Of(r.stream)).hash, await sha256OfGenerated(3 * 1024 * 1024 + 1));
  });

  test('a failing source leaves no file', async () => {
    const { location, driver } = resolveLocation(`file://${exportDir}/broken.csv`, undefined, ctx, 'write');
    const w = driver.openWrite(location);
    const src = generated(1024 * 1024);
    src.once('data', () => src.destroy(new Error('boom')));
    await assert.rejects(writeAll(src, w.stream));
    await assert.rejects(w.done);
    assert.ok(!(await readdir(exportDir)).some((n) => n.includes('broken')));
  });

  test('a folder import lists files in name order, nested ones included, links out of the root skipped', async () => {
    await mkdir(join(importDir, 'batch', 'sub'), { recursive: true });
    for (const n of ['b.csv', 'a.csv', 'sub/c.csv', 'a0.csv']) await writeFile(join(importDir, 'batch', n), n);
    await symlink(join(outside, 'secret.csv'), join(importDir, 'batch', 'z-link.csv'));
    const listed = await collect(readSources(resolveLocation(`file://${importDir}/batch/`, undefined, ctx, 'read')));
    assert.deepEqual(
      listed.map((o) => [o.name, o.size]),
      [
        ['a.csv', 5],
        ['a0.csv', 6],
        ['b.csv', 5],
        ['sub/c.csv', 9],
      ],
    );
    await assert.rejects(
      collect(readSources(resolveLocation(`file://${importDir}/nothing/`, undefined, ctx, 'read'))),
      LocationNotFoundError,
    );
  });

  test('reads stay inside IMPORT_DIR: "..", encoded "..", symlinks out, and other roots are refused', async () => {
    const read = (url: string): Promise<unknown> => {
      const r = resolveLocation(url, undefined, ctx, 'read');
      return r.driver.openRead(r.location);
    };
    await refusedAsync(read(`file://${importDir}/../outside/secret.csv`), /inside the server's folder/);
    await refusedAsync(read(`file://${importDir}/%2e%2e/outside/secret.csv`), /inside the server's folder/);
    await refusedAsync(read(`file://${importDir}/sub/..%2f..%2foutside/secret.csv`), /inside the server's folder/);
    await refusedAsync(read(`file://${importDir}/escape/secret.csv`), /inside the server's folder/);
    await refusedAsync(read(`file://${importDir}/link.csv`), /inside the server's folder/);
    await refusedAsync(read(`file://${outside}/secret.csv`), /inside the server's folder/);
    await refusedAsync(read('file:///etc/passwd'), /inside the server's folder/);
    await assert.rejects(read(`file://${importDir}/missing.csv`), LocationNotFoundError);
    refused(() => resolveLocation('file://otherhost/etc/passwd', undefined, ctx, 'read'), /local path/);
  });

  test('writes stay inside EXPORT_DIR, also through a symlinked folder', async () => {
    const write = async (url: string): Promise<void> => {
      const r = resolveLocation(url, undefined, ctx, 'write');
      const w = r.driver.openWrite(r.location);
      w.stream.end('x');
      await w.done;
    };
    await refusedAsync(write(`file://${exportDir}/../outside/x.csv`), /inside the server's folder/);
    await refusedAsync(write(`file://${exportDir}/escape/x.csv`), /inside the server's folder/);
    await refusedAsync(write(`file://${exportDir}/escape/new/deeper/x.csv`), /inside the server's folder/);
    assert.deepEqual(await readdir(outside), ['secret.csv']);
    assert.equal(await readFile(join(outside, 'secret.csv'), 'utf8'), 'id\n1\n');
  });

  test('unset EXPORT_DIR / IMPORT_DIR turn file:// off, naming the variable', () => {
    refused(() => resolveLocation('file:///tmp/x.csv', undefined, context(), 'write'), /EXPORT_DIR is not set/);
    refused(() => resolveLocation('file:///tmp/x.csv', undefined, context(), 'read'), /IMPORT_DIR is not set/);
    refused(
      () => resolveLocation('file:///tmp/x.csv', { region: 'x' }, ctx, 'read'),
      /Unknown connection option "region"; file:\/\/ takes none/,
    );
  });
});

describe('location URLs', () => {
  const ctx = context({ outboundAllowHosts: [] });
  const bad: Array<[string, RegExp]> = [
    ['', /must be a URL/],
    ['not a url', /is not a URL/],
    ['ftp://host/x', /scheme "ftp" is not supported/],
    ['s3://B/key', /not a valid bucket name/],
    ['s3://ab/key', /not a valid bucket name/],
    ['s3://bucket/key?versionId=1', /must not carry a query/],
    ['s3://user:pw@bucket/key', /must not carry/],
    ['s3://bucket:9000/key', /must not carry/],
    ['https://user:pw@example.com/a.csv', /user name or password/],
  ];
  for (const [url, re] of bad) {
    test(`refuses ${JSON.stringify(url)}`, () => {
      assert.throws(
        () => resolveLocation(url, undefined, ctx, 'read', 'source'),
        (e: unknown) => e instanceof InvalidParameterError && e.parameter === 'source' && re.test(e.message),
      );
    });
  }

  test('http(s) is for imports only, and never shows its query', () => {
    assert.throws(() => resolveLocation('https://example.com/a.csv', undefined, ctx, 'write'), /only be an import source/);
    const r = resolveLocation('https://example.com/data/a%20b.csv?X-Amz-Signature=abc', undefined, ctx, 'read');
    assert.equal(r.location.href, 'https://example.com/data/a%20b.csv');
    assert.equal(r.location.requestUrl, 'https://example.com/data/a%20b.csv?X-Amz-Signature=abc');
  });

  test('keys are decoded; the bucket root and a trailing "/" are folders', () => {
    const a = resolveLocation('s3://my-bucket/dir/my%20file.csv', undefined, ctx, 'read').location;
    assert.deepEqual([a.container, a.key, a.isFolder, a.href], ['my-bucket', 'dir/my file.csv', false, 's3://my-bucket/dir/my%20file.csv']);
    assert.equal(resolveLocation('s3://my-bucket', undefined, ctx, 'read').location.isFolder, true);
    assert.equal(resolveLocation('gcs://my-bucket/dir/', undefined, ctx, 'read').location.isFolder, true);
  });

  test('S3 keys come in pairs', () => {
    assert.throws(() => resolveLocation('s3://bkt/x', { access_key_id: 'a' }, ctx, 'read'), /give both or neither/);
  });
});
