/** The `credentials` table: one SSH key pair per (hub user, cluster). */
import { z } from 'zod';
import type { Store } from '../../store';

export interface IStoredCredential {
  user: string;
  cluster: string;
  clusterUser: string;
  publicKey: string;
  /** Encrypted (see crypto.ts); never the clear key. */
  privateKeySealed: string;
  createdAt: string;
}

const RowSchema = z.object({
  user: z.string(),
  cluster: z.string(),
  cluster_user: z.string(),
  public_key: z.string(),
  private_key: z.string(),
  created_at: z.string()
});

export class CredentialTable {
  constructor(private readonly store: Store) {}

  get(user: string, cluster: string): IStoredCredential | undefined {
    const row = this.store.db
      .prepare('SELECT * FROM credentials WHERE user = ? AND cluster = ?')
      .get(user, cluster);
    if (row === undefined) {
      return undefined;
    }
    const r = RowSchema.parse(row);
    return {
      user: r.user,
      cluster: r.cluster,
      clusterUser: r.cluster_user,
      publicKey: r.public_key,
      privateKeySealed: r.private_key,
      createdAt: r.created_at
    };
  }

  /** Everyone with a key on some cluster. */
  users(): string[] {
    return this.store.db
      .prepare('SELECT DISTINCT user FROM credentials')
      .all()
      .map(r => z.object({ user: z.string() }).parse(r).user);
  }

  /** Inserts unless a row exists (two first requests racing keep the first key). */
  insert(c: IStoredCredential): void {
    this.store.db
      .prepare(
        'INSERT INTO credentials (user, cluster, cluster_user, public_key, private_key, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'
      )
      .run(
        c.user,
        c.cluster,
        c.clusterUser,
        c.publicKey,
        c.privateKeySealed,
        c.createdAt
      );
  }
}
