import { timingSafeEqual } from 'node:crypto';
import type { ServerHostKeyAlgorithm } from 'ssh2';

const KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa'
] as const;
type KeyType = (typeof KEY_TYPES)[number];

function isKeyType(t: string): t is KeyType {
  return (KEY_TYPES as readonly string[]).includes(t);
}

/** A pinned SSH host key: its algorithm name and the raw public key blob (wire format). */
export interface IPinnedHostKey {
  type: KeyType;
  blob: Buffer;
}

/**
 * Parses one OpenSSH public key line (`ssh-ed25519 AAAA… comment`), as found in
 * `ssh_host_*_key.pub` or a known_hosts entry without its host field.
 * Throws with a sentence when the line is not a public key.
 */
export function parseOpenSshPublicKey(text: string): IPinnedHostKey {
  const line = text
    .split('\n')
    .map(l => l.trim())
    .find(l => l !== '' && !l.startsWith('#'));
  if (line === undefined) {
    throw new Error('no public key line found');
  }
  if (text.includes('PRIVATE KEY')) {
    throw new Error(
      'this is a private key; pin the public host key (the .pub file)'
    );
  }
  const [type, b64] = line.split(/\s+/);
  if (
    type === undefined ||
    b64 === undefined ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)
  ) {
    throw new Error('not an OpenSSH public key line ("TYPE BASE64 [comment]")');
  }
  if (!isKeyType(type)) {
    throw new Error(
      `unsupported host key type "${type}" (use one of ${KEY_TYPES.join(', ')})`
    );
  }
  const blob = Buffer.from(b64, 'base64');
  // The blob starts with the algorithm name as an SSH string; it must match the type field.
  if (blob.length < 4) {
    throw new Error('public key blob too short');
  }
  const nameLength = blob.readUInt32BE(0);
  const embedded = blob.subarray(4, 4 + nameLength).toString('latin1');
  if (embedded !== type) {
    throw new Error(
      `key type "${type}" does not match the key blob ("${embedded}")`
    );
  }
  return { type, blob };
}

/** Compares a host key offered by a server with the pinned one in constant time. */
export function hostKeyMatches(
  pinned: IPinnedHostKey,
  offered: Buffer
): boolean {
  return (
    pinned.blob.length === offered.length &&
    timingSafeEqual(pinned.blob, offered)
  );
}

/** The host key algorithms to offer so the server presents the pinned key's type. */
export function hostKeyAlgorithms(
  pinned: IPinnedHostKey
): ServerHostKeyAlgorithm[] {
  if (pinned.type === 'ssh-rsa') {
    return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  }
  return [pinned.type];
}
