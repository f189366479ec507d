import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LocationAccessDeniedError, LocationNotFoundError, OutboundAddressRefusedError } from '../../../src/errors.js';
import { readSources, resolveLocation, writeTarget, type LocationContext } from '../../../src/locations/index.js';
import type { S3LocationDriver } from '../../../src/locations/s3.driver.js';
import { startS3rver, type RunningServer } from './servers.js';
import { freePort } from '../../helpers/ports.js';
import { collect, context, generated, secretFree, sha256Of, sha256OfGenerated, writeAll } from './helpers.js';

const PORT = await freePort();
const ENDPOINT = `http://127.0.0.1:${PORT}`;
// s3rver's built-in account.
const KEYS = { access_key_id: 'S3RVER', secret_key: 'S3RVER' };
const CONNECTION = { region: 'us-east-1', endpoint_url: ENDPOINT, ...KEYS };

describe('s3:// locations against s3rver', () => {
  let server: RunningServer;
  let ctx: LocationContext;

  before(async () => {
    server = await startS3rver(PORT, ['exports']);
    ctx = { ...context({ outboundAllowHosts: [`127.0.0.1:${PORT}`] }), s3: { partSize: 5 * 1024 * 1024, listPageSize: 2 } };
  });

  after(async () => {
    await server.close();
  });

  test('a 12 MB object goes up as a multipart stream and comes back byte-equal', async () => {
    const size = 12 * 1024 * 1024 + 123;
    const { location, driver } = resolveLocation('s3://exports/nightly/', CONNECTION, ctx, 'write');
    const target = writeTarget(location, 'orders-1.csv');
    assert.equal(target.href, 's3://exports/nightly/orders-1.csv');
    const w = driver.openWrite(target, { contentType: 'text/csv' });
    await writeAll(generated(size), w.stream);
    assert.deepEqual(await w.done, { url: 's3://exports/nightly/orders-1.csv', size });
    assert.equal((driver as S3LocationDriver).partsUploaded, 3, 'three 5 MiB parts');

    const read = resolveLocation('s3://exports/nightly/orders-1.csv', CONNECTION, ctx, 'read');
    const r = await read.driver.openRead(read.location);
    assert.equal(r.size, size);
    assert.equal(r.name, 'orders-1.csv');
    assert.deepEqual(await sha256Of(r.stream), { hash: await sha256OfGenerated(size), size });
    driver.close();
    read.driver.close();
  });

  test('a folder lists every object under it in name order, across pages', async () => {
    // s3rver orders "sub-x" and "sub/x" unlike S3 (and then pages past one), so names avoid that pair.
    const names = ['b.csv', 'a.csv', 'c.csv', 'a0.csv'];
    const w = resolveLocation('s3://exports/list/', CONNECTION, ctx, 'write');
    for (const n of names) {
      const h = w.driver.openWrite(writeTarget(w.location, n));
      await writeAll(generated(10 + n.length), h.stream);
      await h.done;
    }
    // One nested key, written by its full name.
    const nested = resolveLocation('s3://exports/list/sub/c.csv', CONNECTION, ctx, 'write');
    const h = nested.driver.openWrite(nested.location);
    await writeAll(generated(5), h.stream);
    await h.done;
    // Another prefix that must not show up.
    const other = resolveLocation('s3://exports/listing-not/x.csv', CONNECTION, ctx, 'write');
    const o = other.driver.openWrite(other.location);
    await writeAll(generated(5), o.stream);
    await o.done;

    const folder = resolveLocation('s3://exports/list/', CONNECTION, ctx, 'read');
    const listed = await collect(readSources(folder));
    assert.equal((folder.driver as S3LocationDriver).listPages, 3, 'five keys in pages of two');
    assert.deepEqual(
      listed.map((x) => [x.name, x.location.href]),
      [
        ['a.csv', 's3://exports/list/a.csv'],
        ['a0.csv', 's3://exports/list/a0.csv'],
        ['b.csv', 's3://exports/list/b.csv'],
        ['c.csv', 's3://exports/list/c.csv'],
        ['sub/c.csv', 's3://exports/list/sub/c.csv'],
      ],
    );
    assert.equal(listed[0]?.size, 15);
  });

  test('a missing object, an empty folder and a missing bucket are not-found errors naming the URL', async () => {
    const missing = resolveLocation('s3://exports/nope.csv', CONNECTION, ctx, 'read');
    await assert.rejects(
      missing.driver.openRead(missing.location),
      (e: unknown) => e instanceof LocationNotFoundError && /s3:\/\/exports\/nope\.csv/.test(e.message),
    );
    await assert.rejects(collect(readSources(resolveLocation('s3://exports/empty/', CONNECTION, ctx, 'read'))), LocationNotFoundError);
    const bucket = resolveLocation('s3://no-such-bucket/x.csv', CONNECTION, ctx, 'read');
    await assert.rejects(bucket.driver.openRead(bucket.location), LocationNotFoundError);
  });

  test('bad credentials: access denied, and no secret in the error', async () => {
    const bad = { ...CONNECTION, access_key_id: 'AKIABADBADBAD', secret_key: 'very-secret-value-123' };
    const r = resolveLocation('s3://exports/nightly/orders-1.csv', bad, ctx, 'read');
    const err = await r.driver.openRead(r.location).catch((e: unknown) => e);
    assert.ok(err instanceof LocationAccessDeniedError, String(err));
    assert.equal(err.code, 'invalid_parameter');
    assert.match(err.message, /refused access to s3:\/\/exports\/nightly\/orders-1\.csv \(InvalidAccessKeyId\)/);
    assert.equal(secretFree(err, ['AKIABADBADBAD', 'very-secret-value-123']), undefined);

    const w = resolveLocation('s3://exports/denied.csv', bad, ctx, 'write');
    const h = w.driver.openWrite(w.location);
    await assert.rejects(
      writeAll(generated(1024), h.stream).then(() => h.done),
      LocationAccessDeniedError,
    );
  });

  test('the endpoint is refused unless OUTBOUND_ALLOW_HOSTS names it, also under another name', async () => {
    const closed = context();
    const r = resolveLocation('s3://exports/nightly/orders-1.csv', CONNECTION, closed, 'read');
    await assert.rejects(r.driver.openRead(r.location), OutboundAddressRefusedError);
    // localhost resolves to loopback: refused by the lookup that the connection itself uses.
    const byName = resolveLocation(
      's3://exports/nightly/orders-1.csv',
      { ...CONNECTION, endpoint_url: `http://localhost:${PORT}` },
      ctx,
      'read',
    );
    await assert.rejects(byName.driver.openRead(byName.location), OutboundAddressRefusedError);
  });

  test('a source stream that fails leaves no object behind', async () => {
    const w = resolveLocation('s3://exports/broken.csv', CONNECTION, ctx, 'write');
    const h = w.driver.openWrite(w.location);
    const src = generated(6 * 1024 * 1024);
    let n = 0;
    src.on('data', () => {
      if (++n === 40) src.destroy(new Error('database went away'));
    });
    await assert.rejects(writeAll(src, h.stream));
    await assert.rejects(h.done);
    const r = resolveLocation('s3://exports/broken.csv', CONNECTION, ctx, 'read');
    await assert.rejects(r.driver.openRead(r.location), LocationNotFoundError);
  });
});
