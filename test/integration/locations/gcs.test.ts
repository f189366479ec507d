import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../helpers/ports.js';
import {
  InvalidParameterError,
  LocationAccessDeniedError,
  LocationNotFoundError,
  OutboundAddressRefusedError,
} from '../../../src/errors.js';
import { readSources, resolveLocation, writeTarget, type LocationContext } from '../../../src/locations/index.js';
import { startFakeGcs, type FakeGcs } from './fake-gcs.server.js';
import { collect, context, generated, secretFree, sha256Of, sha256OfGenerated, writeAll } from './helpers.js';

const PORT = await freePort();
const TOKEN_PORT = await freePort();

describe('gcs:// locations against a fake of the GCS JSON API', () => {
  let fake: FakeGcs;
  let locked: FakeGcs;
  let ctx: LocationContext;
  let connection: Record<string, string | boolean>;

  before(async () => {
    fake = await startFakeGcs({ port: PORT, buckets: ['exports'] });
    locked = await startFakeGcs({ port: TOKEN_PORT, buckets: ['exports'], requireToken: 'the-right-token' });
    connection = { gcs_base_url: fake.url, disable_oauth: true };
    ctx = context({ outboundAllowHosts: [`127.0.0.1:${PORT}`, `127.0.0.1:${TOKEN_PORT}`] });
  });

  after(async () => {
    await fake.close();
    await locked.close();
  });

  test('a 6 MB object goes up as one streamed resumable upload and comes back byte-equal', async () => {
    const size = 6 * 1024 * 1024 + 11;
    const { location, driver } = resolveLocation('gcs://exports/nightly/', connection, ctx, 'write');
    const target = writeTarget(location, 'orders-1.json');
    const w = driver.openWrite(target, { contentType: 'application/json' });
    await writeAll(generated(size, 5), w.stream);
    assert.deepEqual(await w.done, { url: 'gcs://exports/nightly/orders-1.json', size });
    assert.ok(
      fake.requests.some((r) => r.startsWith('POST /upload/storage/v1/b/exports/o?name=nightly%2Forders-1.json&uploadType=resumable')),
    );
    assert.equal(fake.objects.get('exports/nightly/orders-1.json')?.length, size);

    const r = await driver.openRead(target);
    assert.equal(r.size, size);
    assert.equal(r.name, 'orders-1.json');
    assert.deepEqual(await sha256Of(r.stream), { hash: await sha256OfGenerated(size, 5), size });
    driver.close();
  });

  test('a folder lists every object under it in name order, across pages', async () => {
    for (const n of ['list/b.csv', 'list/sub/c.csv', 'list/a.csv', 'list/sub-c.csv', 'listing/x.csv'])
      fake.objects.set(`exports/${n}`, Buffer.from(n));
    const listed = await collect(readSources(resolveLocation('gcs://exports/list/', connection, ctx, 'read')));
    assert.deepEqual(
      listed.map((o) => [o.name, o.size, o.location.href]),
      [
        ['a.csv', 10, 'gcs://exports/list/a.csv'],
        ['b.csv', 10, 'gcs://exports/list/b.csv'],
        ['sub-c.csv', 14, 'gcs://exports/list/sub-c.csv'],
        ['sub/c.csv', 14, 'gcs://exports/list/sub/c.csv'],
      ],
    );
    assert.ok(fake.requests.filter((r) => r.startsWith('GET /storage/v1/b/exports/o?') && r.includes('pageToken')).length >= 1, 'paged');
  });

  test('a missing object, bucket or empty folder is not found', async () => {
    const r = resolveLocation('gcs://exports/nope.csv', connection, ctx, 'read');
    await assert.rejects(
      r.driver.openRead(r.location),
      (e: unknown) => e instanceof LocationNotFoundError && /gcs:\/\/exports\/nope\.csv/.test(e.message),
    );
    const b = resolveLocation('gcs://no-such-bucket/x.csv', connection, ctx, 'read');
    await assert.rejects(b.driver.openRead(b.location), LocationNotFoundError);
    await assert.rejects(collect(readSources(resolveLocation('gcs://exports/empty/', connection, ctx, 'read'))), LocationNotFoundError);
  });

  test('a store that refuses the caller is access denied, and the error holds no key', async () => {
    const key = '-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-secret-part\\n-----END PRIVATE KEY-----';
    const anon = resolveLocation('gcs://exports/x.csv', { gcs_base_url: locked.url, disable_oauth: true }, ctx, 'read');
    const err = await anon.driver.openRead(anon.location).catch((e: unknown) => e);
    assert.ok(err instanceof LocationAccessDeniedError, String(err));
    assert.match(err.message, /refused access to gcs:\/\/exports\/x\.csv/);
    // A malformed service-account key fails before any request, without echoing the key.
    const bad = resolveLocation(
      'gcs://exports/x.csv',
      { gcs_base_url: locked.url, client_email: 'svc@example.iam.gserviceaccount.com', private_key: key },
      ctx,
      'read',
    );
    const err2 = await bad.driver.openRead(bad.location).catch((e: unknown) => e);
    assert.ok(err2 instanceof Error);
    assert.equal(secretFree(err2, ['secret-part', 'MIIEvQ']), undefined, String(err2));
  });

  test('options are checked, and the endpoint is refused unless allowed', async () => {
    assert.throws(
      () => resolveLocation('gcs://exports/x', { ...connection, project_id: 'p' }, ctx, 'read'),
      (e: unknown) => e instanceof InvalidParameterError && e.parameter === 'connection.project_id',
    );
    assert.throws(() => resolveLocation('gcs://exports/x', { ...connection, disable_oauth: 'yes' }, ctx, 'read'), /must be true or false/);
    assert.throws(() => resolveLocation('gcs://exports/x', { gcs_base_url: 'ftp://x' }, ctx, 'read'), /http:\/\/ or https:\/\//);
    const closed = resolveLocation('gcs://exports/nightly/orders-1.json', connection, context(), 'read');
    await assert.rejects(closed.driver.openRead(closed.location), OutboundAddressRefusedError);
    const w = closed.driver.openWrite(writeTarget(closed.location, 'x'));
    w.stream.end('x');
    await assert.rejects(w.done, OutboundAddressRefusedError);
  });
});
