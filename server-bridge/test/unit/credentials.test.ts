import { decryptSecret, encryptSecret } from '../../src/credentials/crypto';
import { clusterUserOf } from '../../src/credentials/access';
import { utils } from 'ssh2';
import {
  CredentialService,
  fingerprint,
  usableKeyPair
} from '../../src/credentials/service';
import { testStore } from './test-store';

const KEY = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

describe('encryption of SSH keys at rest', () => {
  it('round-trips and uses a fresh IV each time', () => {
    const a = encryptSecret(KEY, 'private key text', 'alice');
    const b = encryptSecret(KEY, 'private key text', 'alice');
    expect(a).not.toBe(b);
    expect(a).not.toContain('private key text');
    expect(decryptSecret(KEY, a, 'alice')).toBe('private key text');
  });

  it('fails with the wrong key or for another owner', () => {
    const sealed = encryptSecret(KEY, 'secret', 'ssh-key\0alice\0demo');
    expect(() => decryptSecret(OTHER, sealed, 'ssh-key\0alice\0demo')).toThrow(
      /wrong HPC_BRIDGE_SECRET_KEY/
    );
    expect(() => decryptSecret(KEY, sealed, 'ssh-key\0bob\0demo')).toThrow();
    expect(() => encryptSecret('short', 'x', 'y')).toThrow(/64 hex/);
  });
});

describe('usableKeyPair', () => {
  it('throws away a pair whose private or public key ssh2 cannot read back', () => {
    // Itself checked: ssh2's generator makes an unreadable pair now and then.
    const good = usableKeyPair('good');
    const pairs = [
      { public: good.public, private: 'not a key' },
      {
        public: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH3hg',
        private: good.private
      },
      { public: good.public, private: good.private }
    ];
    const pair = usableKeyPair('test', () => pairs.shift()!);
    expect(pair.private).toBe(good.private);
    expect(pairs).toEqual([]);
  });

  it('gives up rather than storing an unusable key', () => {
    expect(() =>
      usableKeyPair('test', () => ({ public: 'x', private: 'not a key' }))
    ).toThrow(/usable SSH key/);
  });

  it('returns keys that parse, many times over', () => {
    for (let i = 0; i < 300; i++) {
      expect(utils.parseKey(usableKeyPair('test').private)).not.toBeInstanceOf(
        Error
      );
    }
  });
});

describe('CredentialService', () => {
  const cluster = { name: 'demo', title: 'Demo' };

  it('creates one ed25519 key per user and cluster and keeps it', () => {
    const store = testStore();
    const svc = new CredentialService(store, () => KEY);
    const first = svc.userKey('alice', cluster, 'alice');
    const again = svc.userKey('alice', cluster, 'alice');
    const bob = svc.userKey('bob', cluster, 'bob');

    expect(first.credential.publicKey).toMatch(
      /^ssh-ed25519 AAAA\S+ hpc-bridge alice@demo$/
    );
    expect(again.credential.publicKey).toBe(first.credential.publicKey);
    expect(again.privateKey).toBe(first.privateKey);
    expect(first.privateKey).toContain('OPENSSH PRIVATE KEY');
    expect(bob.credential.publicKey).not.toBe(first.credential.publicKey);
    expect(first.credential.fingerprint).toBe(
      fingerprint(first.credential.publicKey)
    );
    expect(first.credential.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(first.credential.instructions).toContain(first.credential.publicKey);
    expect(first.credential.instructions).toContain('authorized_keys');
    store.close();
  });

  it('stores nothing secret in clear and needs the same key to read it back', () => {
    const store = testStore();
    const { privateKey } = new CredentialService(store, () => KEY).userKey(
      'alice',
      cluster,
      'alice'
    );
    const dump = JSON.stringify(
      store.db.prepare('SELECT * FROM credentials').all()
    );
    const body = privateKey
      .split('\n')
      .filter(l => l !== '' && !l.startsWith('-----'))
      .join('');
    expect(dump).not.toContain(body.slice(0, 40));
    expect(dump).not.toContain('PRIVATE KEY');
    expect(() =>
      new CredentialService(store, () => OTHER).userKey(
        'alice',
        cluster,
        'alice'
      )
    ).toThrow(/cannot decrypt/);
    store.close();
  });
});

describe('clusterUserOf', () => {
  it('applies a template or a table', () => {
    expect(clusterUserOf({ template: '{user}' }, 'alice')).toBe('alice');
    expect(clusterUserOf({ template: 'hpc_{user}' }, 'alice')).toBe(
      'hpc_alice'
    );
    expect(clusterUserOf({ table: { alice: 'ab123' } }, 'alice')).toBe('ab123');
    expect(() => clusterUserOf({ table: { alice: 'ab123' } }, 'bob')).toThrow(
      /No cluster account/
    );
    expect(() => clusterUserOf({ template: '{user}' }, 'a;b')).toThrow(
      /not a valid Unix user name/
    );
  });
});
