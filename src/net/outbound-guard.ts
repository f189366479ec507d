/**
 * The one gate for requests the service makes on a user's behalf (import URLs, object store
 * endpoints, later webhooks): they must not reach the service's own network. Every address a host
 * resolves to is checked, and the connection is made to the address that was checked (the check
 * runs inside the socket's `lookup`), so a DNS answer that changes between a check and the connect
 * (a rebind) cannot slip through. Hosts named in OUTBOUND_ALLOW_HOSTS skip the address check, for
 * local emulators and on-premise stores.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type http from 'node:http';
import { isIP, Socket, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { HostNotFoundError, OutboundAddressRefusedError } from '../errors.js';
import { hostPort, timedAgent } from './outbound-deadline.js';

/** Resolves every address of a host, as the socket would (getaddrinfo, /etc/hosts included). */
export type Resolver = (host: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

const IPV4_REASONS: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address (where cloud metadata services live)',
  loopback: 'a loopback address',
  carrierGradeNat: 'a shared (carrier-grade NAT) address',
  private: 'a private network address',
  reserved: 'a reserved or documentation address',
  benchmarking: 'a benchmarking address',
  amt: 'a reserved address',
  as112: 'a reserved address',
  deprecated: 'a reserved address',
};

/**
 * Why `ip` may not be reached, or `undefined` when it is a public unicast address. IPv6 forms that
 * carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the address they carry.
 */
export function addressRefusal(ip: string): string | undefined {
  if (!ipaddr.isValid(ip)) return 'not an IP address';
  const addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv4') {
    const range = (addr as ipaddr.IPv4).range();
    return range === 'unicast' ? undefined : (IPV4_REASONS[range] ?? 'a reserved address');
  }
  const v6 = addr as ipaddr.IPv6;
  const embedded = embeddedIpv4(v6);
  if (embedded) {
    const reason = addressRefusal(embedded.toString());
    return reason ? `${reason} inside an IPv6 address` : undefined;
  }
  switch (v6.range()) {
    case 'unspecified':
      return 'an unspecified address';
    case 'loopback':
      return 'a loopback address';
    case 'linkLocal':
      return 'a link-local address';
    case 'uniqueLocal':
      return 'a private network (unique local) address';
    case 'multicast':
      return 'a multicast address';
    case 'unicast':
      // Only global unicast (2000::/3) is the public internet; the rest is reserved or special.
      return v6.match(ipaddr.IPv6.parse('2000::'), 3) ? undefined : 'a reserved address';
    default:
      return 'a reserved or documentation address';
  }
}

/** The IPv4 address an IPv6 address stands for, when it is one of the forms that carry one. */
function embeddedIpv4(v6: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = v6.parts;
  const fromWords = (hi: number, lo: number): ipaddr.IPv4 => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const range = v6.range();
  // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (SIIT) and the deprecated ::a.b.c.d (compatible).
  if (range === 'ipv4Mapped' || range === 'rfc6145') return fromWords(p[6] ?? 0, p[7] ?? 0);
  if (p.slice(0, 6).every((w) => w === 0) && ((p[6] ?? 0) !== 0 || (p[7] ?? 0) > 1)) return fromWords(p[6] ?? 0, p[7] ?? 0);
  // NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48): the last 32 bits.
  if (range === 'rfc6052') return fromWords(p[6] ?? 0, p[7] ?? 0);
  // 6to4: 2002:AABB:CCDD::/48.
  if (range === '6to4') return fromWords(p[1] ?? 0, p[2] ?? 0);
  // Teredo hides the client address obfuscated; nothing public needs it.
  if (range === 'teredo') return ipaddr.IPv4.parse('0.0.0.0');
  return undefined;
}

export interface OutboundGuardOptions {
  /** `host` or `host:port` entries (IPv6 as `[::1]:port`), matched against the URL's host. */
  allowHosts?: string[];
  resolver?: Resolver;
  /** OUTBOUND_TIMEOUT_MS: how long a peer may stay silent on a connection of this guard's agents. */
  idleTimeoutMs?: number;
}

export class OutboundGuard {
  private readonly allowAnyPort = new Set<string>();
  private readonly allowPort = new Set<string>();
  private readonly resolver: Resolver;
  private readonly idleTimeoutMs: number | undefined;

  constructor(opts: OutboundGuardOptions = {}) {
    this.resolver = opts.resolver ?? systemResolver;
    this.idleTimeoutMs = opts.idleTimeoutMs;
    for (const entry of opts.allowHosts ?? []) {
      // The URL parser normalises the entry exactly as it normalises the hosts it is matched against.
      let u: URL;
      try {
        if (!/^[^\s/?#@\\]+$/.test(entry.trim())) throw new Error('not a host');
        u = new URL(`http://${entry.trim()}`);
      } catch {
        throw new Error(`OUTBOUND_ALLOW_HOSTS: "${entry}" is not a host or host:port`);
      }
      // The parser drops a port that is the scheme's default (80), so read the written one too.
      const written = /(?:^|[^:]|\]):(\d+)$/.exec(entry.trim())?.[1];
      const port = u.port || written;
      if (port) this.allowPort.add(`${normaliseHost(u.hostname)}:${Number(port)}`);
      else this.allowAnyPort.add(normaliseHost(u.hostname));
    }
  }

  /** Whether `host` (a URL hostname; IPv6 with or without brackets) at `port` is on the allow-list. */
  isAllowListed(host: string, port: number): boolean {
    const h = normaliseHost(host);
    return this.allowAnyPort.has(h) || this.allowPort.has(`${h}:${port}`);
  }

  /**
   * Checks a URL before anything is sent: the scheme, and every address of its host. Use it where a
   * connection cannot be pinned (a client library without an agent option); the agents below pin.
   */
  async checkUrl(url: URL, schemes: readonly string[] = ['http:', 'https:']): Promise<void> {
    if (!schemes.includes(url.protocol)) {
      throw new OutboundAddressRefusedError(url.host || url.href, `the scheme ${url.protocol} is not allowed here`);
    }
    await this.resolveChecked(url.hostname, portOf(url));
  }

  /** Every address of `host`, after checking them all; throws OutboundAddressRefusedError. */
  async resolveChecked(host: string, port: number): Promise<LookupAddress[]> {
    const h = normaliseHost(host);
    const allowed = this.isAllowListed(h, port);
    const literal = isIP(h);
    if (literal) {
      const reason = allowed ? undefined : addressRefusal(h);
      if (reason) throw new OutboundAddressRefusedError(hostPort(h, port), `it is ${reason}`);
      return [{ address: h, family: literal }];
    }
    let addresses: LookupAddress[];
    try {
      addresses = await this.resolver(h);
    } catch {
      throw new HostNotFoundError(hostPort(h, port));
    }
    if (addresses.length === 0) throw new HostNotFoundError(hostPort(h, port));
    if (!allowed) {
      // One bad answer refuses the host: a resolver may hand out a public and a private address.
      for (const a of addresses) {
        const reason = addressRefusal(a.address);
        if (reason) throw new OutboundAddressRefusedError(hostPort(h, port), `it resolves to ${reason}`);
      }
    }
    return addresses;
  }

  /** A socket `lookup` that answers only with checked addresses: the connection goes where the check looked. */
  lookupFor(port: number): LookupFunction {
    return ((hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback) => {
      this.resolveChecked(hostname, port).then(
        (addresses) => {
          const fam = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
          const usable = fam === 4 || fam === 6 ? addresses.filter((a) => a.family === fam) : addresses;
          if (usable.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
          if (options.all) return callback(null, usable);
          const first = usable[0] as LookupAddress;
          callback(null, first.address, first.family);
        },
        (err: Error) => callback(err, ''),
      );
    }) as unknown as LookupFunction;
  }

  /**
   * An http(s) agent whose every connection passes the guard and is watched for silence (see
   * outbound-deadline.ts); give one to each client library.
   */
  agent(protocol: 'http:' | 'https:', opts: http.AgentOptions = {}): http.Agent {
    return timedAgent(protocol, this.idleTimeoutMs, opts, (options, port) => {
      const host = normaliseHost(String(options.host ?? options.hostname ?? 'localhost'));
      // A literal address never goes through `lookup`, so it is judged here.
      const reason = isIP(host) && !this.isAllowListed(host, port) ? addressRefusal(host) : undefined;
      if (reason) {
        const refused = new Socket();
        process.nextTick(() => refused.destroy(new OutboundAddressRefusedError(hostPort(host, port), `it is ${reason}`)));
        return refused;
      }
      return { ...options, lookup: this.lookupFor(port) };
    });
  }
}

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

function normaliseHost(host: string): string {
  const h = host.toLowerCase();
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** The port a URL connects to, its scheme's default when none is written. */
export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}
