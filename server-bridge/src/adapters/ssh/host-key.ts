import { timingSafeEqual } from 'node:crypto';

/** A pinned SSH host key: its algorithm name and the raw public key blob (wire format). */
export interface PinnedHostKey {
  type: string;
  blob: Buffer;
}

/**
 * Parses one OpenSSH public key line (`ssh-ed25519 AAAA… comment`), as found in
 * `ssh_host_*_key.pub` or a known_hosts entry without its host field.
 * Throws with a sentence when the line is not a public key.
 */
export function parseOpenSshPublicKey(text: string): PinnedHostKey {
  const line = text
    .split('\n')
    .map(l => l.trim())
    .find(l => l !== '' && !l.startsWith('#'));
  if (line === undefined) {
    throw new Error('no public key line found');
  }
  const [type, b64] = line.split(/\s+/);
  if (type === undefined || b64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new Error('not an OpenSSH public key line ("TYPE BASE64 [comment]")');
  }
  const blob = Buffer.from(b64, 'base64');
  // The blob starts with the algorithm name as an SSH string; it must match the type field.
  if (blob.length < 4) {
    throw new Error('public key blob too short');
  }
  const nameLength = blob.readUInt32BE(0);
  const embedded = blob.subarray(4, 4 + nameLength).toString('latin1');
  if (embedded !== type) {
    throw new Error(`key type "${type}" does not match the key blob ("${embedded}")`);
  }
  return { type, blob };
}

/** Compares a host key offered by a server with the pinned one in constant time. */
export function hostKeyMatches(pinned: PinnedHostKey, offered: Buffer): boolean {
  return pinned.blob.length === offered.length && timingSafeEqual(pinned.blob, offered);
}

/** The host key algorithms to offer so the server presents the pinned key's type. */
export function hostKeyAlgorithms(pinned: PinnedHostKey): string[] {
  if (pinned.type === 'ssh-rsa') {
    return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  }
  return [pinned.type];
}
