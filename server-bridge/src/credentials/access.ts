/**
 * Acting on a cluster as a hub user: maps the hub name to the cluster account, gets the
 * user's key, and turns "the cluster refused the key" into a 412 that carries the public
 * key to install.
 */
import type { ClusterConfig } from '../config';
import type { SshCredential } from '../contract';
import { DomainError } from '../domain-error';
import type { IUserClusterPort } from '../ports/slurm';
import type { CredentialService } from './service';

const UNIX_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/;

/** The cluster account of a hub user under the cluster's `userMapping`. */
export function clusterUserOf(
  mapping: ClusterConfig['userMapping'],
  hubUser: string
): string {
  const name =
    'table' in mapping
      ? mapping.table[hubUser]
      : mapping.template.replaceAll('{user}', hubUser);
  if (name === undefined) {
    throw new DomainError(
      'forbidden',
      `No cluster account is configured for user ${hubUser}`
    );
  }
  if (!UNIX_NAME.test(name)) {
    throw new DomainError(
      'forbidden',
      `The cluster account name for ${hubUser} is not a valid Unix user name`
    );
  }
  return name;
}

export interface IClusterAccess {
  credential(cluster: string, hubUser: string): SshCredential;
  /** The user's SSH session on the cluster. */
  session(cluster: string, hubUser: string): IUserClusterPort;
  /**
   * Runs `fn` in the user's session (`session`: one opened before, so that the user's
   * key is not decrypted again); an authentication failure becomes
   * 412 cluster_auth_failed with the credential, a connection failure or a login node
   * that keeps refusing new sessions 503.
   */
  run<T>(
    cluster: string,
    hubUser: string,
    fn: (s: IUserClusterPort) => Promise<T>,
    session?: IUserClusterPort
  ): Promise<T>;
}

export type SessionFactory = (
  cluster: ClusterConfig,
  clusterUser: string,
  privateKey: string
) => IUserClusterPort;

interface IConnectError {
  stage?: unknown;
  authFailed?: unknown;
}

export class ClusterAccess implements IClusterAccess {
  constructor(
    private readonly clusters: readonly ClusterConfig[],
    private readonly credentials: CredentialService,
    private readonly factory: SessionFactory
  ) {}

  private cluster(name: string): ClusterConfig {
    const c = this.clusters.find(k => k.name === name);
    if (c === undefined) {
      throw new DomainError('not_found', `No cluster named "${name}"`);
    }
    return c;
  }

  credential(cluster: string, hubUser: string): SshCredential {
    const c = this.cluster(cluster);
    return this.credentials.credential(
      hubUser,
      c,
      clusterUserOf(c.userMapping, hubUser)
    );
  }

  session(cluster: string, hubUser: string): IUserClusterPort {
    const c = this.cluster(cluster);
    const key = this.credentials.userKey(
      hubUser,
      c,
      clusterUserOf(c.userMapping, hubUser)
    );
    return this.factory(c, key.clusterUser, key.privateKey);
  }

  async run<T>(
    cluster: string,
    hubUser: string,
    fn: (s: IUserClusterPort) => Promise<T>,
    session: IUserClusterPort = this.session(cluster, hubUser)
  ): Promise<T> {
    try {
      return await fn(session);
    } catch (e) {
      const err = e as IConnectError;
      if (err.authFailed === true) {
        const credential = this.credential(cluster, hubUser);
        throw new DomainError(
          'cluster_auth_failed',
          credential.instructions,
          credential
        );
      }
      if (err.stage === 'connect' || err.stage === 'timeout') {
        throw new DomainError(
          'upstream_unavailable',
          `Cluster ${cluster} cannot be reached (${(e as Error).message}). Jobs already submitted keep running; try again in a minute.`
        );
      }
      if (err.stage === 'busy') {
        throw new DomainError(
          'upstream_unavailable',
          `Cluster ${cluster} is busy (${(e as Error).message}); try again in a moment.`
        );
      }
      throw e;
    }
  }
}
