/**
 * Where a job's webhook may go. Users choose the URL, and the bridge sits inside the
 * site's network: unless an admin allows it, loopback, private, link-local and other
 * non-public addresses are refused, both as literals at submit and after DNS at delivery.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4]
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8]
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** True for an IP address on the public internet. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) {
    return false;
  }
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) {
      return isPublicAddress(mapped[1]);
    }
    return !NON_PUBLIC.check(address, 'ipv6');
  }
  return !NON_PUBLIC.check(address, 'ipv4');
}

/** The URL's host as an address literal (brackets of IPv6 removed), or null for a name. */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) === 0 ? null : host;
}

export type Lookup = (host: string) => Promise<string[]>;

export const dnsLookup: Lookup = async host =>
  (await lookup(host, { all: true })).map(a => a.address);

/** Why the webhook must not be called, or null when it may. */
export async function webhookRefusal(
  url: string,
  resolve: Lookup = dnsLookup
): Promise<string | null> {
  const u = new URL(url);
  const literal = literalAddress(u);
  const addresses = literal !== null ? [literal] : await resolve(u.hostname);
  const blocked = addresses.find(a => !isPublicAddress(a));
  if (addresses.length === 0) {
    return `${u.hostname} does not resolve`;
  }
  return blocked === undefined
    ? null
    : `${u.hostname} is a non-public address (${blocked})`;
}
