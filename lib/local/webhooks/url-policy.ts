/**
 * Where a webhook may point (SSRF), checked twice: when a team lead subscribes a URL
 * (webhookUrlProblem), and again for every connection a delivery makes, on the addresses the
 * receiver's name resolves to then (guardLookup), so that a name re-pointed after subscribing
 * (DNS rebinding) or one that always resolved to a private address reaches nothing it should not.
 *
 * - Everywhere: an absolute URL, no user name or password (the signature authenticates each
 *   delivery), no #fragment.
 * - Not a private, loopback, link-local or otherwise non-public address (10/8, 172.16/12,
 *   192.168/16, 127/8, 169.254/16, 0/8, 100.64/10, …, ::1, ::, fc00::/7, fe80::/10, multicast, and
 *   IPv4-mapped / NAT64 forms of those), nor a name that only means something inside a network
 *   (localhost and *.localhost, *.local, *.internal, *.localdomain, *.home.arpa, single-label names).
 * - On AWS (`embedded: false`): https only.
 * - On the embedded stack (`embedded: true`): this machine is allowed too, by the names localhost,
 *   127.0.0.1 and [::1] (where test receivers listen), over plain http as well as https; any other
 *   host needs https and the rules above.
 *
 * A URL can only say a literal IP (in any spelling the WHATWG URL parser normalises: decimal, hex,
 * octal, short IPv4, IPv6 with an embedded IPv4) or a name; what a name means is known only when a
 * connection is made, which is why the delivering sockets resolve through guardLookup. The functions
 * here do no I/O: the resolver is passed in.
 */
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';

export interface WebhookUrlOptions {
  /** True on the embedded stack: this machine (localhost, 127.0.0.1, [::1]) is allowed, over http too. */
  embedded: boolean;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why a webhook URL is refused, or undefined when it will do. */
export function webhookUrlProblem(raw: string, options: WebhookUrlOptions): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol === 'http:') {
    if (!options.embedded) return 'must use https';
    if (!LOOPBACK_HOSTS.has(url.hostname)) return 'must use https (plain http is allowed only to localhost, 127.0.0.1 or [::1])';
  } else if (url.protocol !== 'https:') return `must use https, not ${url.protocol.replace(/:$/, '')}`;
  if (url.username || url.password) return 'must not carry a user name or password: the signature authenticates each delivery';
  if (url.hash) return 'must not have a #fragment';
  if (options.embedded && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return hostProblem(url.hostname);
}

/** Why a URL's host (as `URL.hostname` gives it: IPv6 in brackets, IPv4 normalised) is not a public one. */
export function hostProblem(hostname: string): string | undefined {
  if (hostname.startsWith('[') && hostname.endsWith(']')) {
    const groups = parseIpv6(hostname.slice(1, -1));
    if (!groups) return 'must name a host';
    const range = ipv6Range(groups);
    return range ? `must not point at a ${range} address (${hostname})` : undefined;
  }
  if (parseIpv4(hostname) !== undefined) {
    const range = addressRange(hostname);
    return range ? `must not point at a ${range} address (${hostname})` : undefined;
  }
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === '') return 'must name a host';
  if (name === 'localhost' || name.endsWith('.localhost')) return `must not point at this machine (${hostname})`;
  if (!name.includes('.')) return `must be a fully qualified public host name, not ${hostname}`;
  const internal = INTERNAL_SUFFIXES.find((suffix) => name.endsWith(suffix));
  if (internal) return `must not point at an internal name (*${internal})`;
  return undefined;
}

/** Names that resolve only inside a network: mDNS, cloud-internal DNS, home networks. */
const INTERNAL_SUFFIXES = ['.local', '.internal', '.localdomain', '.home.arpa', '.lan', '.intranet', '.corp'];

/** IPv4 special-purpose ranges (RFC 6890 and friends) a webhook must never reach. */
const IPV4_BLOCKED: readonly [base: string, bits: number, what: string][] = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignment'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function ipv4Number(dotted: string): number {
  return dotted.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** A dotted-quad IPv4 address as a number; URL has already normalised other spellings to it. */
export function parseIpv4(host: string): number | undefined {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return ipv4Number(host);
}

export function ipv4Range(address: number): string | undefined {
  for (const [base, bits, what] of IPV4_BLOCKED) {
    const size = 2 ** (32 - bits);
    const start = ipv4Number(base);
    if (address >= start && address < start + size) return what;
  }
  return undefined;
}

/** Eight 16-bit groups of an IPv6 address (with `::` and a trailing dotted IPv4), or undefined. */
export function parseIpv6(text: string): number[] | undefined {
  let body = text.toLowerCase();
  if (body.includes('%')) return undefined; // zone ids never appear in a URL host
  const tail: number[] = [];
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(body);
  if (dotted) {
    const v4 = parseIpv4(dotted[1] as string);
    if (v4 === undefined) return undefined;
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
    body = body.slice(0, -(dotted[1] as string).length);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const read = (s: string) => (s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : Number.NaN)));
  const head = read(halves[0] as string);
  const rest = halves.length === 2 ? read(halves[1] as string) : [];
  const given = head.length + rest.length + tail.length;
  if ([...head, ...rest].some(Number.isNaN)) return undefined;
  if (halves.length === 1 && given !== 8) return undefined;
  if (halves.length === 2 && given > 7) return undefined;
  return [...head, ...Array<number>(8 - given).fill(0), ...rest, ...tail];
}

export function ipv6Range(g: readonly number[]): string | undefined {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g6 = 0, h = 0] = g;
  const embeddedV4 = g6 * 65536 + h;
  if (g.every((x) => x === 0)) return 'unspecified';
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0 && g6 === 0 && h === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): the IPv4 decides.
  const mapped = a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && (f === 0xffff || f === 0);
  const nat64 = a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0;
  if (mapped || nat64) {
    const range = ipv4Range(embeddedV4);
    return range ? `${range} (IPv4 in IPv6)` : undefined;
  }
  if ((a & 0xfe00) === 0xfc00) return 'unique local (private)';
  if ((a & 0xffc0) === 0xfe80) return 'link-local';
  if ((a & 0xffc0) === 0xfec0) return 'site-local';
  if ((a & 0xff00) === 0xff00) return 'multicast';
  if (a === 0x2001 && b === 0x0db8) return 'documentation';
  return undefined;
}

/**
 * The non-public range an IP address (as a resolver gives it: dotted IPv4, or IPv6 without
 * brackets) falls in, or undefined for a public one. An address that cannot be read (an IPv6 zone
 * id, which only link-local addresses carry) counts as non-public.
 */
export function addressRange(address: string): string | undefined {
  const v4 = parseIpv4(address);
  if (v4 !== undefined) return ipv4Range(v4);
  const groups = parseIpv6(address);
  return groups ? ipv6Range(groups) : 'unreadable or scoped';
}

/**
 * Why a delivery may not connect to `address`, which `hostname` (the subscription URL's host)
 * resolved to; undefined when it may. On the embedded stack `localhost` must resolve to this
 * machine; every other name must resolve to public addresses only.
 */
export function addressProblem(hostname: string, address: string, options: WebhookUrlOptions): string | undefined {
  const range = addressRange(address);
  if (options.embedded && LOOPBACK_HOSTS.has(hostname)) return range?.startsWith('loopback') ? undefined : `${hostname} resolves to ${address}, which is not this machine`;
  return range ? `${hostname} resolves to ${address}, a ${range} address: webhooks go to public addresses only` : undefined;
}

/** The error a guarded lookup fails a connection with: no bytes were sent. */
export class ForbiddenAddressError extends Error {
  readonly code = 'EFORBIDDENADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenAddressError';
  }
}

/**
 * A `lookup` for the sockets that deliver webhooks (node:http(s) Agent or net.connect option): it
 * resolves with `resolve` (dns.lookup, or a test's resolver) and fails the connection when any of
 * the name's addresses is one addressProblem refuses, so the check and the connection use the same
 * answer and a name cannot be re-pointed between them. All addresses are checked, not only the
 * first: a connection may fall back to any of them. (Literal IP hosts never reach a lookup: the URL
 * check covers them.)
 */
export function guardLookup(resolve: LookupFunction, options: WebhookUrlOptions): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, { ...lookupOptions, all: true }, (error, resolved) => {
      if (error) return callback(error, '', 0);
      const addresses: LookupAddress[] = Array.isArray(resolved) ? resolved : [{ address: resolved, family: lookupOptions.family === 6 ? 6 : 4 }];
      const refused = addresses.map((a) => addressProblem(hostname, a.address, options)).find(Boolean);
      if (refused || addresses.length === 0) return callback(new ForbiddenAddressError(refused ?? `${hostname} resolves to no address`), '', 0);
      if (lookupOptions.all) return callback(null, addresses);
      const [first] = addresses as [LookupAddress];
      return callback(null, first.address, first.family);
    });
  };
}
