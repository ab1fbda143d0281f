/**
 * Where a job's webhook may go. Users choose the URL, and the bridge sits inside the
 * site's network: unless an admin allows it, loopback, private, link-local, multicast,
 * documentation, translation/tunnel and other non-public addresses are refused, both as
 * literals at submit and after DNS at delivery. Delivery connects to the address that was
 * checked (see webhook.ts), so a name cannot answer differently for the request.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** [network, prefix length] of IPv4 ranges that are not the public internet. */
const NON_PUBLIC_V4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4] // reserved, broadcast
];

/** The public IPv6 internet is global unicast 2000::/3 without these. */
const GLOBAL_UNICAST_V6: readonly [string, number] = ['2000::', 3];
const NON_PUBLIC_V6: readonly (readonly [string, number])[] = [
  ['2001::', 23], // IETF protocol assignments, Teredo 2001::/32 among them
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: an IPv4 address inside
  ['3fff::', 20] // documentation
];

function v4ToInt(address: string): bigint {
  return address
    .split('.')
    .reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n);
}

/** A valid IPv6 literal (no zone) as a 128-bit number. */
function v6ToInt(address: string): bigint {
  const halves = address.split('::');
  const groupsOf = (part: string): bigint[] => {
    if (part === '') {
      return [];
    }
    const out: bigint[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = v4ToInt(g);
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else {
        out.push(BigInt(parseInt(g, 16)));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length > 1 ? groupsOf(halves[1]) : [];
  const zeros: bigint[] = Array(8 - head.length - tail.length).fill(0n);
  return [...head, ...zeros, ...tail].reduce((n, g) => (n << 16n) | g, 0n);
}

function inRange(
  value: bigint,
  bits: number,
  network: bigint,
  prefix: number
): boolean {
  const shift = BigInt(bits - prefix);
  return value >> shift === network >> shift;
}

const V4_RANGES = NON_PUBLIC_V4.map(([net, prefix]) => ({
  net: v4ToInt(net),
  prefix
}));
const V6_RANGES = NON_PUBLIC_V6.map(([net, prefix]) => ({
  net: v6ToInt(net),
  prefix
}));
const V6_GLOBAL = { net: v6ToInt(GLOBAL_UNICAST_V6[0]), prefix: 3 };

/**
 * True for an IP address on the public internet. IPv6 forms that carry an IPv4 address
 * (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4, Teredo)
 * are refused whatever the IPv4 address is: they lead to it through a translator.
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const n = v4ToInt(address);
    return !V4_RANGES.some(r => inRange(n, 32, r.net, r.prefix));
  }
  if (family !== 6 || address.includes('%')) {
    return false;
  }
  const n = v6ToInt(address);
  return (
    inRange(n, 128, V6_GLOBAL.net, V6_GLOBAL.prefix) &&
    !V6_RANGES.some(r => inRange(n, 128, r.net, r.prefix))
  );
}

/** The URL's host as an address literal (brackets of IPv6 removed), or null for a name. */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) === 0 ? null : host;
}

export type Lookup = (host: string) => Promise<string[]>;

export const dnsLookup: Lookup = async host =>
  (await lookup(host, { all: true })).map(a => a.address);

/** Where a webhook goes: its URL and the one address the request connects to. */
export interface IWebhookTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export type TargetResult =
  { ok: true; target: IWebhookTarget } | { ok: false; reason: string };

/**
 * Resolves the webhook's host once and picks the address to connect to: the first one,
 * after checking that every address the name has is public (unless `allowPrivate`).
 */
export async function webhookTarget(
  url: string,
  resolve: Lookup = dnsLookup,
  allowPrivate = false
): Promise<TargetResult> {
  const u = new URL(url);
  const literal = literalAddress(u);
  const addresses = literal !== null ? [literal] : await resolve(u.hostname);
  if (addresses.length === 0) {
    return { ok: false, reason: `${u.hostname} does not resolve` };
  }
  if (!allowPrivate) {
    const blocked = addresses.find(a => !isPublicAddress(a));
    if (blocked !== undefined) {
      return {
        ok: false,
        reason: `${u.hostname} is a non-public address (${blocked})`
      };
    }
  }
  const address = addresses[0];
  const family = isIP(address);
  if (family !== 4 && family !== 6) {
    return { ok: false, reason: `${u.hostname} resolves to ${address}` };
  }
  return { ok: true, target: { url: u, address, family } };
}

/** Why the webhook must not be called, or null when it may. */
export async function webhookRefusal(
  url: string,
  resolve: Lookup = dnsLookup
): Promise<string | null> {
  const result = await webhookTarget(url, resolve);
  return result.ok ? null : result.reason;
}
