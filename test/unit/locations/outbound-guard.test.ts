import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutboundAddressRefusedError } from '../../../src/errors.js';
import { addressRefusal, OutboundGuard, type Resolver } from '../../../src/net/outbound-guard.js';

/** Host names answered from a table, as a hostile DNS server would answer them. */
function fakeDns(table: Record<string, string[]>): Resolver {
  return async (host) => {
    const answers = table[host];
    if (!answers) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

const refusedUrls: Array<[string, string]> = [
  ['http://127.0.0.1/', 'loopback'],
  ['http://127.255.0.9/', 'loopback'],
  ['http://localhost.localdomain.invalid/', 'does not resolve'],
  ['http://2130706433/', 'loopback'], // decimal 127.0.0.1
  ['http://0177.0.0.1/', 'loopback'], // octal
  ['http://0x7f.0.0.1/', 'loopback'], // hex
  ['http://0x7f000001/', 'loopback'],
  ['http://127.1/', 'loopback'], // short form
  ['http://0/', 'unspecified'],
  ['http://0.0.0.0/', 'unspecified'],
  ['http://10.0.0.1/', 'private'],
  ['http://172.16.5.4/', 'private'],
  ['http://192.168.1.1/', 'private'],
  ['http://100.64.0.1/', 'carrier-grade NAT'],
  ['http://169.254.169.254/latest/meta-data/', 'link-local'],
  ['http://169.254.0.1/', 'link-local'],
  ['http://224.0.0.1/', 'multicast'],
  ['http://255.255.255.255/', 'broadcast'],
  ['http://192.0.2.10/', 'documentation'],
  ['http://198.51.100.7/', 'documentation'],
  ['http://203.0.113.9/', 'documentation'],
  ['http://240.0.0.1/', 'reserved'],
  ['http://[::1]/', 'loopback'],
  ['http://[::]/', 'unspecified'],
  ['http://[fe80::1]/', 'link-local'],
  ['http://[fc00::1]/', 'unique local'],
  ['http://[fd12:3456::1]/', 'unique local'],
  ['http://[ff02::1]/', 'multicast'],
  ['http://[2001:db8::1]/', 'documentation'],
  ['http://[::ffff:127.0.0.1]/', 'loopback'], // IPv4-mapped
  ['http://[::ffff:7f00:1]/', 'loopback'], // the same, in hex words
  ['http://[::ffff:a9fe:a9fe]/', 'link-local'], // mapped metadata address
  ['http://[::7f00:1]/', 'loopback'], // IPv4-compatible
  ['http://[::ffff:0:7f00:1]/', 'loopback'], // SIIT
  ['http://[64:ff9b::a00:1]/', 'private'], // NAT64 of 10.0.0.1
  ['http://[64:ff9b::7f00:1]/', 'loopback'], // NAT64 of 127.0.0.1
  ['http://[2002:7f00:1::]/', 'loopback'], // 6to4 of 127.0.0.1
  ['http://[2001::1]/', 'IPv6'], // Teredo
  ['http://rebind.example/', 'loopback'],
  ['http://metadata.example/', 'link-local'],
  ['http://mixed.example/', 'private'], // one public and one private answer
  ['http://v6local.example/', 'unique local'],
  ['http://mapped.example/', 'loopback'],
  ['ftp://files.example/', 'scheme'],
  ['file:///etc/passwd', 'scheme'],
];

const dns = fakeDns({
  'public.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'rebind.example': ['127.0.0.1'],
  'metadata.example': ['169.254.169.254'],
  'mixed.example': ['93.184.216.34', '10.1.2.3'],
  'v6local.example': ['fd00::5'],
  'mapped.example': ['::ffff:127.0.0.1'],
  'emulator.example': ['127.0.0.1'],
});

describe('outbound guard: address classes', () => {
  test('public unicast addresses pass, in both families and through NAT64/6to4 of public ones', () => {
    for (const ip of ['8.8.8.8', '93.184.216.34', '2606:4700::1111', '64:ff9b::808:808', '2002:808:808::1', '::ffff:8.8.8.8']) {
      assert.equal(addressRefusal(ip), undefined, ip);
    }
  });

  for (const [url, why] of refusedUrls) {
    test(`refuses ${url} (${why})`, async () => {
      const guard = new OutboundGuard({ resolver: dns });
      await assert.rejects(guard.checkUrl(new URL(url)), (err: unknown) => {
        assert.ok(err instanceof OutboundAddressRefusedError, String(err));
        assert.equal(err.code, 'invalid_parameter');
        assert.equal(err.status, 400);
        assert.match(err.message, new RegExp(why, 'i'));
        return true;
      });
    });
  }

  test('a refusal names the host given, never the addresses the DNS answered', async () => {
    const guard = new OutboundGuard({ resolver: dns });
    const err = await guard.checkUrl(new URL('http://mixed.example/x')).catch((e: Error) => e);
    assert.ok(err instanceof OutboundAddressRefusedError);
    assert.match(err.message, /mixed\.example/);
    assert.doesNotMatch(err.message, /10\.1\.2\.3|93\.184/);
  });

  test('a public host name passes', async () => {
    await new OutboundGuard({ resolver: dns }).checkUrl(new URL('https://public.example/data.csv'));
  });
});

describe('outbound guard: OUTBOUND_ALLOW_HOSTS', () => {
  test('host:port opens exactly that host and port', async () => {
    const guard = new OutboundGuard({ resolver: dns, allowHosts: ['127.0.0.1:4570', 'emulator.example:10100'] });
    await guard.checkUrl(new URL('http://127.0.0.1:4570/bucket'));
    await guard.checkUrl(new URL('http://emulator.example:10100/'));
    await assert.rejects(guard.checkUrl(new URL('http://127.0.0.1:4571/')), OutboundAddressRefusedError);
    await assert.rejects(guard.checkUrl(new URL('http://127.0.0.1/')), OutboundAddressRefusedError);
    await assert.rejects(guard.checkUrl(new URL('http://emulator.example:10101/')), OutboundAddressRefusedError);
    // The same address under another name is not the named host.
    await assert.rejects(guard.checkUrl(new URL('http://rebind.example:4570/')), OutboundAddressRefusedError);
    await assert.rejects(guard.checkUrl(new URL('http://[::1]:4570/')), OutboundAddressRefusedError);
  });

  test('a bare host opens every port of it; entries are normalised like URLs', async () => {
    const guard = new OutboundGuard({ resolver: dns, allowHosts: ['Emulator.Example', '[::1]:443', '2130706433:80'] });
    await guard.checkUrl(new URL('http://emulator.example:1/'));
    await guard.checkUrl(new URL('http://emulator.example:65535/'));
    await guard.checkUrl(new URL('https://[::1]/'));
    await guard.checkUrl(new URL('http://127.0.0.1/'));
    await assert.rejects(guard.checkUrl(new URL('http://[::1]/')), OutboundAddressRefusedError);
    await assert.rejects(guard.checkUrl(new URL('http://127.0.0.1:8080/')), OutboundAddressRefusedError);
  });

  test('a malformed entry is refused at start-up', () => {
    assert.throws(() => new OutboundGuard({ allowHosts: ['http://x y'] }), /OUTBOUND_ALLOW_HOSTS/);
  });
});
