import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FileTooLargeError, LocationNotFoundError, LocationUnavailableError, OutboundAddressRefusedError } from '../../../src/errors.js';
import { resolveLocation } from '../../../src/locations/index.js';
import { guardedGet } from '../../../src/net/guarded-get.js';
import { OutboundGuard } from '../../../src/net/outbound-guard.js';
import { context, generated, sha256Of, sha256OfGenerated } from './helpers.js';

const FIRST = 4571;
const SECOND = 4572;

/** A server on 127.0.0.1:port that records each request and answers with `handler`. */
async function serve(port: number, handler: http.RequestListener): Promise<{ hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.headers.host ?? ''} ${req.url ?? ''}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  assert.equal((server.address() as AddressInfo).port, port);
  return {
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('http(s) sources through the outbound guard', () => {
  let first: Awaited<ReturnType<typeof serve>>;
  let second: Awaited<ReturnType<typeof serve>>;
  const size = 2 * 1024 * 1024 + 5;

  before(async () => {
    first = await serve(FIRST, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x').pathname;
      if (url === '/data.csv') {
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': size });
        return void generated(size, 9).pipe(res);
      }
      if (url === '/to-loopback') return void res.writeHead(302, { location: `http://127.0.0.1:${SECOND}/internal` }).end();
      if (url === '/to-metadata') return void res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (url === '/to-v6-mapped') return void res.writeHead(307, { location: `http://[::ffff:127.0.0.1]:${FIRST}/data.csv` }).end();
      if (url === '/to-file') return void res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      if (url === '/hop') return void res.writeHead(302, { location: '/data.csv?x=1' }).end();
      if (url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      if (url === '/big') {
        res.writeHead(200); // no content-length: the cap must hold while streaming
        return void generated(3 * 1024 * 1024).pipe(res);
      }
      if (url === '/stall') {
        res.writeHead(200);
        return void res.write('id\n'); // then nothing, for ever
      }
      res.writeHead(404).end();
    });
    second = await serve(SECOND, (_req, res) => void res.end('internal secret'));
  });

  after(async () => {
    await first.close();
    await second.close();
  });

  // A second of silence: shorter, and a busy machine starving this very process fails the good cases.
  const allowFirst = () =>
    context({ outboundAllowHosts: [`127.0.0.1:${FIRST}`], outboundMaxBytes: 2.5 * 1024 * 1024, outboundTimeoutMs: 1000 });

  test('an allowed host streams its file, size and name', async () => {
    const r = resolveLocation(`http://127.0.0.1:${FIRST}/data.csv?sig=abc`, undefined, allowFirst(), 'read');
    const opened = await r.driver.openRead(r.location);
    assert.equal(opened.size, size);
    assert.equal(opened.name, 'data.csv');
    assert.deepEqual(await sha256Of(opened.stream), { hash: await sha256OfGenerated(size, 9), size });
  });

  test('a relative redirect on the allowed host is followed', async () => {
    const r = resolveLocation(`http://127.0.0.1:${FIRST}/hop`, undefined, allowFirst(), 'read');
    const opened = await r.driver.openRead(r.location);
    assert.equal((await sha256Of(opened.stream)).size, size);
  });

  test('without the allow-list the loopback host is refused before any request', async () => {
    const before = first.hits.length;
    const r = resolveLocation(`http://127.0.0.1:${FIRST}/data.csv`, undefined, context(), 'read');
    await assert.rejects(r.driver.openRead(r.location), OutboundAddressRefusedError);
    assert.equal(first.hits.length, before);
  });

  test('a redirect from the allowed host to another loopback port, the metadata address, a mapped IPv6 form or file:// is refused', async () => {
    for (const path of ['/to-loopback', '/to-metadata', '/to-v6-mapped', '/to-file']) {
      const r = resolveLocation(`http://127.0.0.1:${FIRST}${path}`, undefined, allowFirst(), 'read');
      await assert.rejects(r.driver.openRead(r.location), OutboundAddressRefusedError, path);
    }
    assert.deepEqual(second.hits, [], 'the internal server was never reached');
  });

  test('a public-looking name allowed for the first hop cannot redirect to loopback', async () => {
    // files.example.test resolves to 127.0.0.1 here, as a hostile DNS would make a public name do.
    const guard = new OutboundGuard({
      allowHosts: [`files.example.test:${FIRST}`],
      resolver: async (host) => (host === 'files.example.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
    });
    const opts = { maxBytes: 1e8, maxDurationMs: 10_000 };
    const ok = await guardedGet(new URL(`http://files.example.test:${FIRST}/data.csv`), guard, opts);
    assert.equal((await sha256Of(ok.stream)).size, size);
    await assert.rejects(guardedGet(new URL(`http://files.example.test:${FIRST}/to-loopback`), guard, opts), OutboundAddressRefusedError);
    assert.deepEqual(second.hits, []);
  });

  test('a DNS answer that changes to loopback after the check loses: the connection uses the checked lookup', async () => {
    let calls = 0;
    const guard = new OutboundGuard({
      resolver: async () => (++calls === 1 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]),
    });
    await assert.rejects(
      guardedGet(new URL(`http://rebind.example.test:${SECOND}/`), guard, { maxBytes: 1e6, maxDurationMs: 5000 }),
      OutboundAddressRefusedError,
    );
    assert.ok(calls >= 2);
    assert.deepEqual(second.hits, []);
  });

  test('caps: redirect loops, bytes past the cap (with and without Content-Length), a stalled body, a 404', async () => {
    const open = async (path: string, ctx = allowFirst()) => {
      const r = resolveLocation(`http://127.0.0.1:${FIRST}${path}`, undefined, ctx, 'read');
      const o = await r.driver.openRead(r.location);
      return sha256Of(o.stream);
    };
    await assert.rejects(open('/loop'), (e: unknown) => e instanceof LocationUnavailableError && /more than 5 redirects/.test(e.message));
    await assert.rejects(open('/big'), FileTooLargeError);
    await assert.rejects(
      open('/data.csv', context({ outboundAllowHosts: [`127.0.0.1:${FIRST}`], outboundMaxBytes: 1024 })),
      FileTooLargeError,
    );
    await assert.rejects(
      open('/stall'),
      (e: unknown) => e instanceof LocationUnavailableError && e.message.includes(`127.0.0.1:${FIRST} went silent for 1 s`),
    );
    await assert.rejects(open('/missing.csv'), (e: unknown) => e instanceof LocationNotFoundError && !/sig=/.test(e.message));
  });
});
