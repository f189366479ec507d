import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import {
  InvalidParameterError,
  LocationAccessDeniedError,
  LocationNotFoundError,
  OutboundAddressRefusedError,
} from '../../../src/errors.js';
import { readSources, resolveLocation, writeTarget, type LocationContext } from '../../../src/locations/index.js';
import { collect, context, generated, secretFree, sha256Of, sha256OfGenerated, writeAll } from './helpers.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type RunningServer } from './servers.js';
import { freePort } from '../../helpers/ports.js';

const PORT = await freePort();

describe('azblob:// locations against azurite', () => {
  let server: RunningServer;
  let ctx: LocationContext;
  let connection: Record<string, string>;

  before(async () => {
    server = await startAzurite(PORT);
    connection = { account: AZURITE_ACCOUNT, access_key: AZURITE_KEY, endpoint_url: server.url };
    const admin = new BlobServiceClient(server.url, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
    await admin.getContainerClient('exports').create();
    ctx = context({ outboundAllowHosts: [`127.0.0.1:${PORT}`] });
  });

  after(async () => {
    await server.close();
  });

  test('a 9 MB blob goes up as a stream of blocks and comes back byte-equal', async () => {
    const size = 9 * 1024 * 1024 + 7;
    const { location, driver } = resolveLocation('azblob://exports/nightly/', connection, ctx, 'write');
    const target = writeTarget(location, 'orders-1.parquet');
    const w = driver.openWrite(target, { contentType: 'application/vnd.apache.parquet' });
    await writeAll(generated(size, 3), w.stream);
    assert.deepEqual(await w.done, { url: 'azblob://exports/nightly/orders-1.parquet', size });

    const r = await driver.openRead(target);
    assert.equal(r.size, size);
    assert.equal(r.name, 'orders-1.parquet');
    assert.deepEqual(await sha256Of(r.stream), { hash: await sha256OfGenerated(size, 3), size });
    driver.close();
  });

  test('a folder lists every blob under it in name order', async () => {
    const w = resolveLocation('azblob://exports/list/', connection, ctx, 'write');
    for (const n of ['b.csv', 'sub/c.csv', 'a.csv', 'sub-c.csv']) {
      const h = w.driver.openWrite(writeTarget(w.location, n.replace('/', '_')));
      await writeAll(generated(3), h.stream);
      await h.done;
    }
    const nested = resolveLocation('azblob://exports/list/sub/d.csv', connection, ctx, 'write');
    const h = nested.driver.openWrite(nested.location);
    await writeAll(generated(4), h.stream);
    await h.done;
    const listed = await collect(readSources(resolveLocation('azblob://exports/list/', connection, ctx, 'read')));
    assert.deepEqual(
      listed.map((o) => [o.name, o.size]),
      [
        ['a.csv', 3],
        ['b.csv', 3],
        ['sub-c.csv', 3],
        ['sub/d.csv', 4],
        ['sub_c.csv', 3],
      ],
    );
  });

  test('a missing blob, container or empty folder is not found', async () => {
    const r = resolveLocation('azblob://exports/nope.csv', connection, ctx, 'read');
    await assert.rejects(
      r.driver.openRead(r.location),
      (e: unknown) => e instanceof LocationNotFoundError && /azblob:\/\/exports\/nope\.csv/.test(e.message),
    );
    const c = resolveLocation('azblob://no-such-container/x.csv', connection, ctx, 'read');
    await assert.rejects(c.driver.openRead(c.location), LocationNotFoundError);
    await assert.rejects(collect(readSources(resolveLocation('azblob://exports/empty/', connection, ctx, 'read'))), LocationNotFoundError);
  });

  test('a wrong key or token is access denied, with no secret in the error', async () => {
    const wrongKey = Buffer.from('not-the-account-key-at-all-0123456789').toString('base64');
    const r = resolveLocation('azblob://exports/nightly/orders-1.parquet', { ...connection, access_key: wrongKey }, ctx, 'read');
    const err = await r.driver.openRead(r.location).catch((e: unknown) => e);
    assert.ok(err instanceof LocationAccessDeniedError, String(err));
    assert.match(err.message, /refused access to azblob:\/\/exports\/nightly\/orders-1\.parquet/);
    assert.equal(secretFree(err, [wrongKey, AZURITE_KEY]), undefined);
  });

  test('connection options are checked: unknown option, key without account, both key and token', () => {
    assert.throws(
      () => resolveLocation('azblob://exports/x', { ...connection, sas_token: 'x' }, ctx, 'read'),
      (e: unknown) => {
        assert.ok(e instanceof InvalidParameterError);
        assert.equal(e.parameter, 'connection.sas_token');
        assert.match(
          e.message,
          /Unknown connection option "sas_token"; azblob:\/\/ takes account, access_key, bearer_token, endpoint_url, use_emulator/,
        );
        return true;
      },
    );
    assert.throws(() => resolveLocation('azblob://exports/x', { access_key: AZURITE_KEY }, ctx, 'read'), /needs connection.account/);
    assert.throws(() => resolveLocation('azblob://exports/x', { ...connection, bearer_token: 't' }, ctx, 'read'), /not both/);
  });

  test("the emulator is refused unless allowed; use_emulator points at azurite's default port", async () => {
    const r = resolveLocation('azblob://exports/nightly/orders-1.parquet', connection, context(), 'read');
    await assert.rejects(r.driver.openRead(r.location), OutboundAddressRefusedError);
    const e = resolveLocation(
      'azblob://exports/x.csv',
      { account: AZURITE_ACCOUNT, access_key: AZURITE_KEY, use_emulator: true },
      context(),
      'read',
    );
    await assert.rejects(
      e.driver.openRead(e.location),
      (err: unknown) => err instanceof OutboundAddressRefusedError && /127\.0\.0\.1:10000/.test(err.message),
    );
  });
});
