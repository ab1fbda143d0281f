/** SSH targets of a cluster: its login node as a user, and its compute nodes through it. */
import type { ClusterConfig } from '../../config';
import type { IUserClusterPort } from '../../ports/slurm';
import type { SshPool } from './client';
import { sshUserCluster } from './jobs';
import type { ISshTarget } from './target';

export function sshTarget(
  c: ClusterConfig,
  username: string,
  privateKey: string
): ISshTarget {
  return {
    host: c.ssh.host,
    port: c.ssh.port,
    username,
    privateKey,
    hostKey: c.ssh.hostKeyFile,
    connectTimeoutMs: c.ssh.connectTimeoutMs,
    idleCloseMs: c.ssh.idleCloseMs
  };
}

/**
 * The user's ports on the cluster; with `ssh.computeNodes`, kernels' sockets are reached
 * over a connection to their node that goes through the login node's connection.
 */
export function sshUserClusterOf(
  pool: SshPool,
  c: ClusterConfig,
  user: string,
  key: string
): IUserClusterPort {
  const login = pool.get(c.name, sshTarget(c, user, key));
  const nodes = c.ssh.computeNodes;
  return sshUserCluster(
    login,
    nodes === undefined
      ? undefined
      : node => {
          const host = nodes.address.replaceAll('{node}', node);
          return pool.get(`${c.name}/${node}`, {
            ...sshTarget(c, user, key),
            host,
            port: nodes.port,
            hostKey: nodes.hostKeyFile,
            jump: () => login.forwardOut(host, nodes.port),
            interactive: true
          });
        }
  );
}
