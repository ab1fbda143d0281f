/**
 * The `openstack` serving provider: each replica is a server on an OpenStack cloud,
 * booted with a flavor chosen by the replica's GPU count, tagged `hpc-bridge` and carrying
 * the bridge's metadata (endpoint, replica, owner), whose user-data starts the recipe on
 * the configured port. The bridge reaches it at its fixed IP; readiness stays the
 * controller's health check. Stop deletes the server; with `onStop: shelve`, scaling to
 * zero shelves it and the next start of the endpoint unshelves it.
 */
import { createHash } from 'node:crypto';
import { commandLine } from '../../shell-quote';
import { capacitySentence, CloudError, NO_VALID_HOST } from './errors';
import { flavorGpus, type Nova, type NovaServer } from './nova';
import type { OpenStackConfig } from '../../config';
import type { ServingProviderInfo } from '../../contract';
import type {
  IProviderReplica,
  IReplicaHandle,
  IReplicaSpec,
  IServingProvider,
  IStopOptions,
  ReplicaStatus
} from '../../endpoints/ports';
import {
  keyEnvironment,
  withAddress,
  withEnvironment
} from '../../endpoints/recipe';

/** Every server the bridge creates carries this tag (reconciliation lists by it). */
export const BRIDGE_TAG = 'hpc-bridge';

const PARKED = new Set(['SHELVED', 'SHELVED_OFFLOADED']);
const GONE = new Set(['DELETED', 'SOFT_DELETED', 'SHUTOFF']);

export interface IOpenStackProviderOptions {
  config: OpenStackConfig;
  nova: Pick<
    Nova,
    | 'imageId'
    | 'networkId'
    | 'flavorId'
    | 'flavors'
    | 'createServer'
    | 'server'
    | 'serversTagged'
    | 'deleteServer'
    | 'action'
    | 'setMetadataItem'
    | 'limits'
  >;
  /** How long flavors and quota serve the panel; default 30 s. */
  infoCacheMs?: number;
  now?: () => number;
}

/** The user-data script: the template with the recipe as one shell-quoted command. */
export function renderUserData(
  template: string,
  argv: readonly string[],
  port: number
): string {
  const host = '0.0.0.0';
  const command = commandLine(withAddress(argv, host, port));
  return template.replace(/\{(command|host|port)\}/g, (_, name: string) =>
    name === 'command' ? command : name === 'host' ? host : String(port)
  );
}

/** The server's fixed IPv4 address, preferring the configured network. */
export function fixedAddress(
  server: Pick<NovaServer, 'addresses'>,
  network: string
): string | null {
  const lists = [
    server.addresses[network] ?? [],
    ...Object.values(server.addresses)
  ];
  for (const list of lists) {
    const a = list.find(
      x =>
        (x['OS-EXT-IPS:type'] ?? 'fixed') === 'fixed' && (x.version ?? 4) === 4
    );
    if (a !== undefined) {
      return a.addr;
    }
  }
  return null;
}

interface IRef {
  serverId: string;
  name: string;
  port: number;
  createdAt: number;
}

function refOf(handle: IReplicaHandle): IRef {
  const r = handle.ref;
  return {
    serverId: String(r.serverId),
    name: String(r.name ?? r.serverId),
    port: Number(r.port),
    createdAt: Number(r.createdAt ?? 0)
  };
}

export class OpenStackProvider implements IServingProvider {
  readonly name = 'openstack';
  private readonly now: () => number;
  private info: {
    at: number;
    value: Promise<Partial<ServingProviderInfo>>;
  } | null = null;

  constructor(private readonly options: IOpenStackProviderOptions) {
    this.now = options.now ?? Date.now;
  }

  private get config() {
    return this.options.config;
  }

  private get nova() {
    return this.options.nova;
  }

  private get cloud() {
    return this.config.title;
  }

  flavorFor(gpus: number): string {
    const f = this.config.flavors.find(x => x.gpus === gpus);
    if (f === undefined) {
      throw new CloudError(
        'bad_request',
        `The cloud ${this.cloud} offers no flavor for ${gpus} GPU${gpus === 1 ? '' : 's'} (configured: ${this.config.flavors.map(x => x.gpus).join(', ')})`
      );
    }
    return f.flavor;
  }

  async start(spec: IReplicaSpec): Promise<IReplicaHandle> {
    const flavor = this.flavorFor(spec.resources.gpus);
    const render = (key: string) =>
      renderUserData(
        this.config.userData,
        withEnvironment(spec.argv, {
          ...spec.env,
          ...keyEnvironment(spec.keyEnv, key)
        }),
        this.config.port
      );
    const userData = render(spec.upstreamKey);
    // Identifies what the server runs, whichever replica's key it holds (a woken server
    // keeps the key it was booted with).
    const specHash = createHash('sha256')
      .update(`${flavor}\0${render('_'.repeat(16))}`)
      .digest('hex')
      .slice(0, 16);
    if (this.config.onStop === 'shelve') {
      const woken = await this.unshelve(spec, specHash);
      if (woken !== null) {
        return woken;
      }
    }
    const [flavorId, imageId, networkId] = await Promise.all([
      this.nova.flavorId(flavor),
      this.nova.imageId(this.config.image),
      this.nova.networkId(this.config.network)
    ]);
    const name = `hpcb-${spec.endpointId}-${spec.replicaId}`;
    const serverId = await this.nova.createServer({
      name,
      flavorId,
      imageId,
      networkId,
      securityGroups: this.config.securityGroups,
      ...(this.config.keyName === undefined
        ? {}
        : { keyName: this.config.keyName }),
      userData,
      metadata: {
        hpcb_endpoint: spec.endpointId,
        hpcb_replica: spec.replicaId,
        hpcb_owner: spec.owner,
        hpcb_spec: specHash
      },
      tags: [BRIDGE_TAG]
    });
    return this.handleOf(spec.replicaId, serverId, name);
  }

  private handleOf(
    replicaId: string,
    serverId: string,
    name: string
  ): IReplicaHandle {
    return {
      provider: this.name,
      replicaId,
      ref: {
        serverId,
        name,
        port: this.config.port,
        createdAt: this.now()
      }
    };
  }

  /** Unshelves the endpoint's shelved server if it runs the same spec (others go). */
  private async unshelve(
    spec: IReplicaSpec,
    specHash: string
  ): Promise<IReplicaHandle | null> {
    const parked = (await this.nova.serversTagged(BRIDGE_TAG)).filter(
      s => s.metadata.hpcb_endpoint === spec.endpointId && PARKED.has(s.status)
    );
    let woken: IReplicaHandle | null = null;
    for (const s of parked) {
      if (woken === null && s.metadata.hpcb_spec === specHash) {
        const from = s.metadata.hpcb_replica;
        await this.nova.setMetadataItem(s.id, 'hpcb_replica', spec.replicaId);
        await this.nova.action(s.id, 'unshelve');
        woken = this.handleOf(spec.replicaId, s.id, s.name);
        if (from !== undefined) {
          woken.ref.wokenFrom = from;
        }
      } else {
        await this.nova.deleteServer(s.id);
      }
    }
    return woken;
  }

  async status(handle: IReplicaHandle): Promise<ReplicaStatus> {
    const ref = refOf(handle);
    const server = await this.nova.server(ref.serverId);
    const label = `cloud server ${ref.name}`;
    if (server === null) {
      return { state: 'gone', reason: `${label} no longer exists` };
    }
    const task = server['OS-EXT-STS:task_state'] ?? null;
    switch (server.status) {
      case 'ACTIVE': {
        const host = fixedAddress(server, this.config.network);
        return host === null
          ? {
              state: 'pending',
              detail: `${label} active, waiting for its address`
            }
          : { state: 'running', host, port: ref.port, endsAt: null };
      }
      case 'BUILD': {
        const bootMs = this.config.bootMinutes * 60_000;
        if (ref.createdAt > 0 && this.now() - ref.createdAt >= bootMs) {
          return {
            state: 'failed',
            reason: `${label} did not boot within ${this.config.bootMinutes} minutes`
          };
        }
        return {
          state: 'pending',
          detail: `${label} building${task === null ? '' : ` (${task})`}`
        };
      }
      case 'ERROR': {
        const fault = server.fault?.message ?? '';
        if (NO_VALID_HOST.test(fault)) {
          return {
            state: 'failed',
            reason: capacitySentence(this.cloud, fault),
            noCapacity: true
          };
        }
        return {
          state: 'failed',
          reason: `The ${label} failed${fault === '' ? '' : `: ${fault}`}`
        };
      }
      default:
        if (task === 'unshelving') {
          return { state: 'pending', detail: `${label} unshelving` };
        }
        if (PARKED.has(server.status) || GONE.has(server.status)) {
          return {
            state: 'gone',
            reason: `${label} is ${server.status.toLowerCase()}`
          };
        }
        return {
          state: 'pending',
          detail: `${label} is ${server.status.toLowerCase()}`
        };
    }
  }

  async stop(
    handle: IReplicaHandle,
    options: IStopOptions = {}
  ): Promise<void> {
    const ref = refOf(handle);
    if (options.park === true && this.config.onStop === 'shelve') {
      const server = await this.nova.server(ref.serverId);
      if (server === null || PARKED.has(server.status)) {
        return;
      }
      if (server.status === 'ACTIVE') {
        await this.nova.action(ref.serverId, 'shelve');
        return;
      }
    }
    await this.nova.deleteServer(ref.serverId);
  }

  async list(): Promise<IProviderReplica[]> {
    const servers = await this.nova.serversTagged(BRIDGE_TAG);
    return servers.map(s => ({
      endpointId: s.metadata.hpcb_endpoint ?? '',
      owner: s.metadata.hpcb_owner ?? '',
      parked:
        PARKED.has(s.status) && s['OS-EXT-STS:task_state'] !== 'unshelving',
      handle: {
        provider: this.name,
        replicaId: s.metadata.hpcb_replica ?? `server-${s.id}`,
        ref: {
          serverId: s.id,
          name: s.name,
          port: this.config.port,
          createdAt: s.created === undefined ? 0 : Date.parse(s.created)
        }
      }
    }));
  }

  /** Flavors and quota for the create dialog; a problem sentence instead of throwing. */
  describe(): Promise<Partial<ServingProviderInfo>> {
    const now = this.now();
    if (
      this.info === null ||
      now - this.info.at >= (this.options.infoCacheMs ?? 30_000)
    ) {
      this.info = { at: now, value: this.readInfo() };
    }
    return this.info.value;
  }

  private async readInfo(): Promise<Partial<ServingProviderInfo>> {
    try {
      const [flavors, limits] = await Promise.all([
        this.nova.flavors(),
        this.nova.limits()
      ]);
      const offered = this.config.flavors.flatMap(c => {
        const f = flavors.find(x => x.name === c.flavor || x.id === c.flavor);
        return f === undefined
          ? []
          : [
              {
                name: f.name,
                gpus: Math.max(c.gpus, flavorGpus(f)),
                vcpus: f.vcpus,
                ramMB: f.ram
              }
            ];
      });
      return { flavors: offered, quota: limits };
    } catch (e) {
      return {
        problem:
          e instanceof CloudError
            ? e.message
            : `The cloud ${this.cloud} did not answer as expected`
      };
    }
  }
}
