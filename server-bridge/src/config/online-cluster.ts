/** Online checks of a cluster: SSH as the service account, slurmctld, the partitions. */
import { SshConnection, SshError } from '../adapters/ssh/client';
import { SshSlurm } from '../adapters/ssh/slurm';
import type { BridgeConfig, ClusterConfig } from './index';
import {
  failed,
  ok,
  type IOnlineOptions,
  type Probe,
  type IOnlineFinding
} from './online-findings';

const quietLog = { debug: () => {}, info: () => {}, warn: () => {} };

/** Connects as the service account (host key pinned), pings slurmctld, finds the partitions. */
export async function checkCluster(
  config: BridgeConfig,
  c: ClusterConfig,
  i: number,
  { timeoutMs }: IOnlineOptions
): Probe {
  const base = `clusters[${i}].ssh`;
  const where = `${c.ssh.host}:${c.ssh.port}`;
  const conn = new SshConnection(
    {
      host: c.ssh.host,
      port: c.ssh.port,
      username: c.ssh.serviceUser,
      privateKey: c.ssh.serviceKey.reveal(),
      hostKey: c.ssh.hostKeyFile,
      connectTimeoutMs: Math.min(c.ssh.connectTimeoutMs, timeoutMs),
      idleCloseMs: c.ssh.idleCloseMs
    },
    quietLog,
    `${c.ssh.serviceUser}@${c.name}`
  );
  try {
    try {
      await conn.connect();
    } catch (e) {
      return [sshFailure(e, c, base, where)];
    }
    const out = [
      ok(
        'ssh',
        base,
        `${c.name}: ${where} has the pinned ${c.ssh.hostKeyFile.type} host key; logged in as ${c.ssh.serviceUser}`
      )
    ];
    out.push(...(await checkPartitions(config, c, i, conn, timeoutMs)));
    return out;
  } finally {
    conn.close();
  }
}

function sshFailure(
  e: unknown,
  c: ClusterConfig,
  base: string,
  where: string
): IOnlineFinding {
  const message = (e as Error).message;
  if (e instanceof SshError && e.authFailed) {
    return failed(
      'ssh',
      `${base}.serviceKey`,
      `${c.name}: ${where} refused the service key for ${c.ssh.serviceUser}: install the key's public half in ~${c.ssh.serviceUser}/.ssh/authorized_keys`
    );
  }
  if (/does not match the pinned key/.test(message)) {
    return failed(
      'ssh',
      `${base}.hostKeyFile`,
      `${c.name}: the host key of ${where} is not the one in ${c.ssh.hostKeyFile.file}`
    );
  }
  if (/Timed out while waiting for handshake/i.test(message)) {
    return failed(
      'ssh',
      base,
      `${c.name}: no SSH handshake with ${where} in time: is it the login node's SSH port?`
    );
  }
  return failed('ssh', base, `${c.name}: ${message}`);
}

/** Profiles, compliantPartitions and the slurm serving provider must name partitions the cluster has. */
async function checkPartitions(
  config: BridgeConfig,
  c: ClusterConfig,
  i: number,
  conn: SshConnection,
  timeoutMs: number
): Probe {
  const slurm = new SshSlurm(conn, timeoutMs);
  let partitions: string[];
  try {
    partitions = (await slurm.partitions()).map(p => p.name);
  } catch (e) {
    return [
      failed(
        'slurm',
        `clusters[${i}]`,
        `${c.name}: cannot list the partitions (sinfo as ${c.ssh.serviceUser}): ${(e as Error).message}`
      )
    ];
  }
  const wanted: [string, string][] = [];
  config.profiles.forEach((p, j) => {
    if (p.cluster === c.name) {
      wanted.push([`profiles[${j}].partition`, p.partition]);
    }
  });
  c.compliantPartitions.forEach((name, j) => {
    wanted.push([`clusters[${i}].compliantPartitions[${j}]`, name]);
  });
  const serving = config.serving.providers.slurm;
  if (serving?.cluster === c.name) {
    wanted.push(['serving.providers.slurm.partition', serving.partition]);
  }
  const out = [
    ok(
      'slurm',
      `clusters[${i}]`,
      `${c.name}: partitions ${partitions.join(', ')}`
    )
  ];
  for (const [path, name] of wanted) {
    if (!partitions.includes(name)) {
      out.push(
        failed(
          'slurm',
          path,
          `${c.name} has no partition "${name}" (it has ${partitions.join(', ')})`
        )
      );
    }
  }
  return out;
}
