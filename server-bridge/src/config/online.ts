/**
 * The `--online` part of `check-config`: can the bridge reach what the config names,
 * with the credentials it names? Each probe has its own timeout and result line; a
 * failure is a sentence with the key path to fix. Secrets are never part of a message.
 */
import {
  HeadBucketCommand,
  ListBucketsCommand,
  S3Client
} from '@aws-sdk/client-s3';
import { Keystone } from '../adapters/openstack/keystone';
import { SshConnection, SshError } from '../adapters/ssh/client';
import { SshSlurm } from '../adapters/ssh/slurm';
import type {
  BridgeConfig,
  ClusterConfig,
  OpenStackConfig,
  S3Config,
  Secret
} from './index';

export interface IOnlineFinding {
  status: 'ok' | 'error' | 'warning';
  check: 'hub' | 'groups' | 'ssh' | 'slurm' | 's3' | 'openstack';
  path: string;
  message: string;
}

interface IOnlineOptions {
  timeoutMs: number;
}

type Probe = Promise<IOnlineFinding[]>;

/** Runs every probe at once; the findings come back in the config's order. */
export async function onlineChecks(
  config: BridgeConfig,
  options: IOnlineOptions
): Promise<IOnlineFinding[]> {
  const probes: Probe[] = [
    checkHubAndGroups(config, options),
    ...config.clusters.map((c, i) => checkCluster(config, c, i, options)),
    ...config.s3.map((s, i) => checkS3(config, s, i, options))
  ];
  const openstack = config.serving.providers.openstack;
  if (openstack !== undefined) {
    probes.push(checkOpenStack(openstack, options));
  }
  return (await Promise.all(probes)).flat();
}

const ok = (
  check: IOnlineFinding['check'],
  path: string,
  message: string
): IOnlineFinding => ({ status: 'ok', check, path, message });

const failed = (
  check: IOnlineFinding['check'],
  path: string,
  message: string
): IOnlineFinding => ({ status: 'error', check, path, message });

/** `fetch failed` hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a timeout). */
function networkReason(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

async function hubGet(
  config: BridgeConfig,
  path: string,
  timeoutMs: number
): Promise<Response> {
  return fetch(`${config.hub.apiUrl}${path}`, {
    headers: {
      authorization: `token ${config.hub.apiToken.reveal()}`,
      accept: 'application/json'
    },
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs)
  });
}

/** Groups only when the hub accepted the token: else the hub's failure says it all. */
async function checkHubAndGroups(
  config: BridgeConfig,
  options: IOnlineOptions
): Probe {
  const hub = await checkHub(config, options);
  return hub.every(f => f.status === 'ok')
    ? [...hub, ...(await checkGroups(config, options))]
    : hub;
}

/** The bridge's token must resolve at the hub (GET /user → the token's owner). */
async function checkHub(
  config: BridgeConfig,
  { timeoutMs }: IOnlineOptions
): Probe {
  const url = config.hub.apiUrl;
  let res: Response;
  try {
    res = await hubGet(config, '/user', timeoutMs);
  } catch (e) {
    return [
      failed(
        'hub',
        'hub.apiUrl',
        `cannot reach the hub API at ${url}: ${networkReason(e, timeoutMs)}`
      )
    ];
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) {
    return [
      failed(
        'hub',
        'hub.apiToken',
        `the hub at ${url} refused the bridge's API token (${res.status}, from ${config.hub.apiToken.source}): use the api_token of the hub's "${config.hub.serviceName}" service`
      )
    ];
  }
  let who: { kind?: unknown; name?: unknown } = {};
  try {
    who = JSON.parse(text) as typeof who;
  } catch {
    // reported below
  }
  if (!res.ok || typeof who.name !== 'string') {
    return [
      failed(
        'hub',
        'hub.apiUrl',
        `${url}/user answered ${res.status} without a hub user or service: is this the hub's API URL (…/hub/api)?`
      )
    ];
  }
  return [
    ok(
      'hub',
      'hub.apiToken',
      `${url}: the token is ${String(who.kind)} ${who.name}`
    )
  ];
}

/** The hub groups the config names: tiers' read/write lists and the admin group. */
export function namedGroups(config: BridgeConfig): Map<string, string> {
  const groups = new Map<string, string>();
  config.storage.tiers.forEach((t, i) => {
    for (const key of ['read', 'write'] as const) {
      t[key].forEach((g, j) => {
        if (g !== '*' && !groups.has(g)) {
          groups.set(g, `storage.tiers[${i}].${key}[${j}]`);
        }
      });
    }
  });
  if (config.roles.adminGroup !== null) {
    groups.set(config.roles.adminGroup, 'roles.adminGroup');
  }
  return groups;
}

/** Groups the hub does not know are warnings: an admin may create them later. */
async function checkGroups(
  config: BridgeConfig,
  { timeoutMs }: IOnlineOptions
): Probe {
  const groups = namedGroups(config);
  const out: IOnlineFinding[] = [];
  const found: string[] = [];
  for (const [group, path] of groups) {
    let status: number;
    try {
      const res = await hubGet(
        config,
        `/groups/${encodeURIComponent(group)}`,
        timeoutMs
      );
      await res.body?.cancel();
      status = res.status;
    } catch (e) {
      out.push({
        status: 'warning',
        check: 'groups',
        path,
        message: `could not look up the hub group "${group}": ${networkReason(e, timeoutMs)}`
      });
      continue;
    }
    if (status === 404) {
      out.push({
        status: 'warning',
        check: 'groups',
        path,
        message: `the hub has no group "${group}"`
      });
    } else if (status === 403 || status === 401) {
      return [
        {
          status: 'warning',
          check: 'groups',
          path: 'hub.apiToken',
          message: `cannot read the hub's groups (${status}): give the bridge's service the read:groups scope`
        }
      ];
    } else if (status === 200) {
      found.push(group);
    }
  }
  if (found.length > 0) {
    out.unshift(
      ok('groups', 'hub', `the hub has the groups ${found.join(', ')}`)
    );
  }
  return out;
}

const quietLog = { debug: () => {}, info: () => {}, warn: () => {} };

/** Connects as the service account (host key pinned), pings slurmctld, finds the partitions. */
async function checkCluster(
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

interface IS3Failure {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** ListBuckets with the store's credentials, then HeadBucket of each tier's bucket. */
async function checkS3(
  config: BridgeConfig,
  s: S3Config,
  i: number,
  { timeoutMs }: IOnlineOptions
): Probe {
  const client = new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: {
      accessKeyId: s.accessKeyId.reveal(),
      secretAccessKey: s.secretAccessKey.reveal()
    }
  });
  const within = () => ({ abortSignal: AbortSignal.timeout(timeoutMs) });
  try {
    try {
      await client.send(new ListBucketsCommand({}), within());
    } catch (e) {
      return [s3Failure(e, s, i, timeoutMs)];
    }
    const out = [
      ok('s3', `s3[${i}]`, `${s.name}: ${s.endpoint} accepts the credentials`)
    ];
    const tiers = config.storage.tiers.flatMap((t, j) =>
      's3' in t.location && t.location.s3.store === s.name
        ? [
            {
              bucket: t.location.s3.bucket,
              path: `storage.tiers[${j}].s3.bucket`
            }
          ]
        : []
    );
    for (const { bucket, path } of tiers) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }), within());
      } catch (e) {
        const err = e as IS3Failure;
        const status = err.$metadata?.httpStatusCode;
        out.push(
          failed(
            's3',
            path,
            status === 404
              ? `${s.name} has no bucket "${bucket}"`
              : `${s.name}: cannot open bucket "${bucket}": ${err.name ?? status ?? err.message}`
          )
        );
      }
    }
    const missing = out.filter(f => f.status === 'error').length;
    if (tiers.length > 0 && missing === 0) {
      out.push(
        ok(
          's3',
          `s3[${i}]`,
          `${s.name}: buckets ${[...new Set(tiers.map(t => t.bucket))].join(', ')} exist`
        )
      );
    }
    return out;
  } finally {
    client.destroy();
  }
}

/** Where a secret came from, for messages (` (file:/etc/…)`); nothing for inline values. */
const from = (secret: Secret): string =>
  secret.source === 'value' ? '' : ` (${secret.source})`;

function s3Failure(
  e: unknown,
  s: S3Config,
  i: number,
  timeoutMs: number
): IOnlineFinding {
  const err = e as IS3Failure;
  const status = err.$metadata?.httpStatusCode;
  if (status === 403 || status === 401) {
    const which =
      err.name === 'InvalidAccessKeyId' ? 'accessKeyId' : 'secretAccessKey';
    return failed(
      's3',
      `s3[${i}].${which}`,
      `${s.name}: ${s.endpoint} refused the credentials (${err.name ?? status}): check accessKeyId${from(s.accessKeyId)} and secretAccessKey${from(s.secretAccessKey)}`
    );
  }
  const reason =
    status !== undefined
      ? `answered ${status} ${err.name ?? ''}`.trim()
      : networkReason(e, timeoutMs);
  return failed(
    's3',
    `s3[${i}].endpoint`,
    `${s.name}: cannot reach ${s.endpoint}: ${reason}`
  );
}

/** A Keystone token with the configured credentials and a compute endpoint in the region. */
async function checkOpenStack(
  o: OpenStackConfig,
  { timeoutMs }: IOnlineOptions
): Probe {
  const auth = o.auth;
  const keystone = new Keystone({
    cloud: o.title,
    authUrl: o.authUrl,
    region: o.region,
    timeoutMs,
    credentials:
      auth.applicationCredential !== undefined
        ? {
            applicationCredential: {
              id: auth.applicationCredential.id.reveal(),
              secret: auth.applicationCredential.secret
            }
          }
        : {
            password: {
              ...auth.password,
              username: auth.password.username.reveal()
            }
          }
  });
  const path = 'serving.providers.openstack';
  try {
    const compute = await keystone.endpoint('compute');
    return [
      ok(
        'openstack',
        `${path}.auth`,
        `${o.title}: Keystone at ${o.authUrl} issued a token; compute endpoint ${compute}`
      )
    ];
  } catch (e) {
    const kind = (e as { kind?: string }).kind;
    return [
      failed(
        'openstack',
        kind === 'auth'
          ? `${path}.auth`
          : kind === 'unreachable'
            ? `${path}.authUrl`
            : path,
        (e as Error).message
      )
    ];
  }
}
