/**
 * Per-user SSH credentials: the bridge generates an ed25519 key per (hub user, cluster)
 * on first use, keeps the private half encrypted in the store, and tells the user how
 * to install the public half.
 */
import { createHash } from 'node:crypto';
import { utils } from 'ssh2';
import type { SshCredential } from '../contract';
import { decryptSecret, encryptSecret } from './crypto';
import {
  CredentialTable,
  type IStoredCredential
} from './repository/credentials';
import type { Store } from '../store';

export interface IUserKey {
  clusterUser: string;
  privateKey: string;
  credential: SshCredential;
}

/** `SHA256:…` as `ssh-keygen -lf` prints it. */
export function fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function installInstructions(
  clusterTitle: string,
  clusterUser: string,
  publicKey: string
): string {
  return (
    `The cluster ${clusterTitle} does not accept the HPC Bridge key of account ${clusterUser} yet. ` +
    `Log in to the cluster as ${clusterUser} and append the key to ~/.ssh/authorized_keys: ` +
    `mkdir -p ~/.ssh && chmod 700 ~/.ssh && echo '${publicKey}' >> ~/.ssh/authorized_keys && chmod 600 ~/.ssh/authorized_keys`
  );
}

export class CredentialService {
  private readonly table: CredentialTable;

  constructor(
    store: Store,
    private readonly secretKeyHex: () => string
  ) {
    this.table = new CredentialTable(store);
  }

  private aad(user: string, cluster: string): string {
    return `ssh-key\0${user}\0${cluster}`;
  }

  /** The user's stored (sealed) key pair for the cluster, created on first call. */
  private stored(
    user: string,
    cluster: { name: string },
    clusterUser: string
  ): IStoredCredential {
    let row = this.table.get(user, cluster.name);
    if (row === undefined) {
      const pair = usableKeyPair(`hpc-bridge ${user}@${cluster.name}`);
      this.table.insert({
        user,
        cluster: cluster.name,
        clusterUser,
        publicKey: pair.public.trim(),
        privateKeySealed: encryptSecret(
          this.secretKeyHex(),
          pair.private,
          this.aad(user, cluster.name)
        ),
        createdAt: new Date().toISOString()
      });
      row = this.table.get(user, cluster.name);
      if (row === undefined) {
        throw new Error('the new SSH key was not stored');
      }
    }
    return row;
  }

  private credentialOf(
    row: IStoredCredential,
    cluster: { name: string; title: string },
    clusterUser: string
  ): SshCredential {
    return {
      cluster: cluster.name,
      clusterUser,
      publicKey: row.publicKey,
      fingerprint: fingerprint(row.publicKey),
      instructions: installInstructions(
        cluster.title,
        clusterUser,
        row.publicKey
      )
    };
  }

  /** The user's public key and how to install it (created on first call); nothing is decrypted. */
  credential(
    user: string,
    cluster: { name: string; title: string },
    clusterUser: string
  ): SshCredential {
    return this.credentialOf(
      this.stored(user, cluster, clusterUser),
      cluster,
      clusterUser
    );
  }

  /** The user's key for the cluster with the private key decrypted, created on first call. */
  userKey(
    user: string,
    cluster: { name: string; title: string },
    clusterUser: string
  ): IUserKey {
    const row = this.stored(user, cluster, clusterUser);
    const privateKey = decryptSecret(
      this.secretKeyHex(),
      row.privateKeySealed,
      this.aad(user, cluster.name)
    );
    return {
      clusterUser,
      privateKey,
      credential: this.credentialOf(row, cluster, clusterUser)
    };
  }
}

/**
 * A new ed25519 pair that ssh2 can read back. About 1 in 200 pairs from ssh2's own
 * generator fails its parser ("Malformed OpenSSH private/public key": a key whose first
 * byte is zero loses it), which would lock the user out for good; such a pair is thrown
 * away.
 */
export function usableKeyPair(
  comment: string,
  generate: () => { public: string; private: string } = () =>
    utils.generateKeyPairSync('ed25519', { comment })
): { public: string; private: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = generate();
    if (
      !(utils.parseKey(pair.private) instanceof Error) &&
      !(utils.parseKey(pair.public) instanceof Error)
    ) {
      return pair;
    }
  }
  throw new Error('could not generate a usable SSH key');
}
