import { utils } from 'ssh2';
import {
  hostKeyAlgorithms,
  hostKeyMatches,
  parseOpenSshPublicKey
} from '../../src/adapters/ssh/host-key';

function blobOf(publicLine: string): Buffer {
  const parsed = utils.parseKey(publicLine);
  if (parsed instanceof Error) {
    throw parsed;
  }
  return parsed.getPublicSSH();
}

function newHostKeyLine(): { line: string; blob: Buffer } {
  const { public: line } = utils.generateKeyPairSync('ed25519', {
    comment: 'root@host'
  });
  return { line: `${line}\n`, blob: blobOf(line) };
}

describe('pinned host keys', () => {
  it('parses an OpenSSH public key line into its raw blob', () => {
    const { line, blob } = newHostKeyLine();
    const pinned = parseOpenSshPublicKey(`# pinned\n\n${line}`);
    expect(pinned.type).toBe('ssh-ed25519');
    expect(pinned.blob.equals(blob)).toBe(true);
    expect(hostKeyAlgorithms(pinned)).toEqual(['ssh-ed25519']);
  });

  it('accepts exactly the pinned key', () => {
    const a = newHostKeyLine();
    const b = newHostKeyLine();
    const pinned = parseOpenSshPublicKey(a.line);
    expect(hostKeyMatches(pinned, a.blob)).toBe(true);
    expect(hostKeyMatches(pinned, b.blob)).toBe(false);
    expect(hostKeyMatches(pinned, a.blob.subarray(0, a.blob.length - 1))).toBe(
      false
    );
    expect(hostKeyMatches(pinned, Buffer.alloc(0))).toBe(false);
  });

  it('rejects lines that are not public keys', () => {
    const { line } = newHostKeyLine();
    expect(() => parseOpenSshPublicKey('')).toThrow(/no public key/);
    expect(() =>
      parseOpenSshPublicKey(utils.generateKeyPairSync('ed25519').private)
    ).toThrow(/private key/);
    expect(() => parseOpenSshPublicKey('ssh-ed25519')).toThrow(
      /not an OpenSSH public key/
    );
    expect(() => parseOpenSshPublicKey('ssh-ed25519 not*base64')).toThrow(
      /not an OpenSSH public key/
    );
    expect(() =>
      parseOpenSshPublicKey(line.replace('ssh-ed25519', 'ssh-rsa'))
    ).toThrow(/does not match/);
    expect(() =>
      parseOpenSshPublicKey(line.replace('ssh-ed25519', 'ssh-dss'))
    ).toThrow(/unsupported/);
  });

  it('offers the RSA signature algorithms for an ssh-rsa key', () => {
    const { public: line } = utils.generateKeyPairSync('rsa', { bits: 1024 });
    const pinned = parseOpenSshPublicKey(line);
    expect(pinned.blob.equals(blobOf(line))).toBe(true);
    expect(hostKeyAlgorithms(pinned)).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa'
    ]);
  });
});
