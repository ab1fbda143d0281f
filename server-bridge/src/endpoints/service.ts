/**
 * Endpoints as users see them: create (catalog model, provider, resources within the
 * model's limits, idle timeout, visibility), list, read, start/stop, delete, with owner
 * and visibility checks. The controller does the rest.
 */
import { randomBytes } from 'node:crypto';
import type { IAuthUser } from '../auth/decide';
import type { BridgeConfig } from '../config';
import type {
  Endpoint,
  EndpointCreate,
  Replica,
  ServingProviderName
} from '../contract';
import { EndpointCreateSchema } from '../contract';
import { DomainError } from '../domain-error';
import {
  checkEndpointPolicy,
  checkReachable,
  tierEnvironment,
  type ITierUse
} from '../policy/data-classes';
import type { Store } from '../store';
import {
  resolveTierUsesAudited,
  tierUseAuditor,
  type TierUseAuditor
} from '../storage/tier-use-audit';
import {
  checkProvider,
  gatewayUrl,
  modelCatalog,
  resolveIdleMinutes,
  resolveServingResources
} from './catalog';
import type { EndpointController } from './controller';
import {
  modelOrFile,
  namedModel,
  type IServable,
  type UserModels
} from './user-models';
import type {
  EndpointTable,
  IEndpointRecord,
  IReplicaRecord
} from './repository/endpoints';

export function newEndpointId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * Who may see (and use through the panel) an endpoint: its owner, admins, and for
 * `group`/`course` visibility the members of that group.
 */
export function visibleTo(user: IAuthUser, ep: IEndpointRecord): boolean {
  return ep.owner === user.name || user.admin || sharedWith(user, ep);
}

/** A `group`/`course` endpoint shared with one of the user's groups or courses. */
export function sharedWith(user: IAuthUser, ep: IEndpointRecord): boolean {
  if (ep.visibility === 'private' || ep.group === null) {
    return false;
  }
  return user.groups.includes(ep.group) || user.instructorOf.includes(ep.group);
}

function toReplica(r: IReplicaRecord): Replica {
  const h = r.handle?.ref;
  const ref =
    h === undefined
      ? null
      : String(h.slurmId ?? h.serverId ?? h.pid ?? '') || null;
  const where =
    h === undefined
      ? null
      : h.serverId !== undefined
        ? `cloud server ${String(h.name ?? h.serverId)}`
        : h.slurmId !== undefined
          ? `SLURM job ${String(h.slurmId)}`
          : h.pid !== undefined
            ? `process ${String(h.pid)} on the bridge host`
            : null;
  return {
    id: r.id,
    provider: r.provider,
    state: r.state,
    ref,
    where,
    address: r.address,
    reason: r.reason,
    ...(r.model === undefined || r.model === null ? {} : { model: r.model }),
    createdAt: r.createdAt,
    readyAt: r.readyAt,
    endsAt: r.endsAt
  };
}

/**
 * A replica as a user who only shares the endpoint sees it: its state and times, not
 * where it runs (process id, job or server, host and port) nor the provider's reason.
 */
function forSharer(r: Replica): Replica {
  return { ...r, ref: null, where: null, address: null, reason: null };
}

export interface IEndpointServiceDeps {
  config: BridgeConfig;
  table: EndpointTable;
  controller: EndpointController;
  store: Pick<Store, 'audit'>;
  /** Users' own model files; absent: catalog models only. */
  models?: UserModels;
}

export class EndpointService {
  private readonly auditUses: TierUseAuditor;

  constructor(private readonly deps: IEndpointServiceDeps) {
    this.auditUses = tierUseAuditor(deps.store, 'endpoint.uses-tier');
  }

  /** The admin's catalog, then the caller's own models (`own: true`). */
  async catalog(user?: IAuthUser) {
    const catalog = modelCatalog(
      this.deps.config,
      await this.deps.controller.providerDetails()
    );
    const rules = this.deps.config.serving.userModels;
    const own = user === undefined ? [] : (this.deps.models?.list(user) ?? []);
    return {
      ...catalog,
      models: [...catalog.models, ...own],
      ...(rules === undefined || this.deps.models === undefined
        ? {}
        : {
            userModels: {
              recipes: rules.recipes,
              tierClasses: rules.tierClasses,
              maxBytes: rules.maxBytes,
              providers: rules.providers
            }
          })
    };
  }

  /**
   * The endpoint as `viewer` may see it: its owner and admins get everything; a user it is
   * only shared with (group, course) gets its replicas without where they run.
   */
  toEndpoint(ep: IEndpointRecord, viewer?: IAuthUser): Endpoint {
    const full =
      viewer === undefined || viewer.admin || viewer.name === ep.owner;
    const replicas = this.deps.table.replicas(ep.id, 10).map(toReplica);
    return {
      id: ep.id,
      name: ep.name,
      owner: ep.owner,
      model: ep.model,
      modelUri: ep.modelFile?.uri ?? null,
      roll:
        ep.roll === null
          ? null
          : {
              from: ep.roll.from.model,
              fromUri: ep.roll.from.modelFile?.uri ?? null,
              startedAt: ep.roll.startedAt
            },
      provider: ep.provider,
      resources: ep.resources,
      idleMinutes: ep.idleMinutes,
      visibility: ep.visibility,
      group: ep.group,
      state: ep.state,
      reason: ep.reason,
      restarts: ep.restarts,
      fallback: ep.fallback,
      fallbackReason: ep.fallbackReason,
      ...(ep.tiers.length === 0 ? {} : { tiers: ep.tiers }),
      url: gatewayUrl(this.deps.config),
      replicas: full ? replicas : replicas.map(forSharer),
      createdAt: ep.createdAt,
      updatedAt: ep.updatedAt,
      lastRequestAt: ep.lastRequestAt
    };
  }

  create(user: IAuthUser, input: EndpointCreate): Endpoint {
    const req = EndpointCreateSchema.parse(input);
    const { config } = this.deps;
    const served = namedModel(config, this.deps.models, user, req.model);
    const { model } = served;
    this.checkProviders(served, req.provider, req.fallback ?? null);
    if (req.fallback !== undefined && req.fallback === req.provider) {
      throw new DomainError(
        'bad_request',
        "The fallback must be another provider than the endpoint's own"
      );
    }
    const resources = resolveServingResources(model, req.resources);
    const idleMinutes = resolveIdleMinutes(config, req.idleMinutes);
    let group: string | null = null;
    if (req.visibility === 'private') {
      if (req.group !== undefined) {
        throw new DomainError(
          'bad_request',
          'A private endpoint has no group; choose visibility group or course'
        );
      }
    } else {
      if (req.group === undefined) {
        throw new DomainError(
          'bad_request',
          `Visibility ${req.visibility} needs a group`
        );
      }
      const allowed =
        user.admin ||
        (req.visibility === 'group'
          ? user.groups.includes(req.group)
          : user.instructorOf.includes(req.group));
      if (!allowed) {
        throw new DomainError(
          'forbidden',
          req.visibility === 'group'
            ? `You are not a member of group ${req.group}`
            : `You do not teach course ${req.group}`
        );
      }
      group = req.group;
    }
    if (this.deps.table.byName(user.name, req.name) !== undefined) {
      throw new DomainError(
        'conflict',
        `You already have an endpoint named ${req.name}`
      );
    }
    const uses = this.tierUses(user, req);
    const rec = this.deps.controller.create({
      id: newEndpointId(),
      name: req.name,
      owner: user.name,
      model: model.name,
      modelFile: served.file,
      provider: req.provider,
      fallback: req.fallback ?? null,
      resources,
      idleMinutes,
      visibility: req.visibility,
      group,
      tiers: uses.map(u => u.ref),
      tierEnv: tierEnvironment(uses)
    });
    this.deps.store.audit({
      user: user.name,
      action: 'endpoint.create',
      target: rec.id,
      details: {
        name: rec.name,
        model: rec.model,
        ...(served.file === null ? {} : { modelUri: served.file.uri }),
        provider: rec.provider,
        visibility: rec.visibility
      }
    });
    this.auditUses(user, uses, 'ok', {
      endpoint: rec.id,
      name: rec.name,
      provider: rec.provider,
      fallback: rec.fallback
    });
    return this.toEndpoint(rec);
  }

  /**
   * The tiers the replicas use, resolved for the owner (404 for a tier they cannot
   * read); an sftp tier only on the slurm provider of its cluster; a sensitive tier
   * only on compliant providers (refusals audited).
   */
  private tierUses(
    user: IAuthUser,
    req: {
      name: string;
      provider: ServingProviderName;
      fallback?: ServingProviderName;
      tiers?: string[];
    }
  ): ITierUse[] {
    const { config } = this.deps;
    const uses = resolveTierUsesAudited(
      config,
      this.deps.store,
      user,
      req.tiers ?? [],
      'endpoint.uses-tier',
      { name: req.name, provider: req.provider }
    );
    const fallback = req.fallback ?? null;
    for (const provider of fallback === null
      ? [req.provider]
      : [req.provider, fallback]) {
      checkReachable(
        uses,
        provider === 'slurm'
          ? (config.serving.providers.slurm?.cluster ?? null)
          : null,
        `a replica on provider ${provider}`
      );
    }
    try {
      checkEndpointPolicy(uses, config.serving, req.provider, fallback);
    } catch (e) {
      this.auditUses(user, uses, 'refused', {
        name: req.name,
        provider: req.provider,
        fallback,
        reason: (e as Error).message
      });
      throw e;
    }
    return uses;
  }

  /** The providers must serve the model; a user's file never goes to a cloud server. */
  private checkProviders(
    served: IServable,
    provider: ServingProviderName,
    fallback: ServingProviderName | null
  ): void {
    for (const p of fallback === null ? [provider] : [provider, fallback]) {
      if (served.file !== null && p === 'openstack') {
        throw new DomainError(
          'bad_request',
          'A model file from a tier cannot be served by the openstack provider: its servers boot from an image and cannot reach the tiers. Use the local or slurm provider.'
        );
      }
      checkProvider(this.deps.config, served.model, p);
    }
  }

  /**
   * Serves another model at the endpoint's URL with its keys: a catalog model, one of the
   * owner's models, or a tier URI of a model file. A new replica starts with it and the
   * old ones drain once it is ready; 409 while a roll is in flight.
   */
  async rollModel(
    user: IAuthUser,
    id: string,
    model: string
  ): Promise<Endpoint> {
    const ep = this.owned(user, id);
    const owner: IAuthUser =
      ep.owner === user.name
        ? user
        : {
            name: ep.owner,
            groups: [],
            roles: [],
            instructorOf: [],
            admin: false
          };
    const served = await modelOrFile(
      this.deps.config,
      this.deps.models,
      owner,
      model,
      ep.modelFile?.recipe
    );
    this.checkProviders(served, ep.provider, ep.fallback);
    resolveServingResources(served.model, ep.resources);
    await this.deps.controller.rollModel(ep.id, {
      model: served.model.name,
      modelFile: served.file
    });
    this.deps.store.audit({
      user: user.name,
      action: 'endpoint.roll',
      target: ep.id,
      details: {
        owner: ep.owner,
        name: ep.name,
        from: ep.model,
        to: served.model.name,
        ...(served.file === null ? {} : { modelUri: served.file.uri })
      }
    });
    return this.get(user, id);
  }

  /** The endpoint if `user` may see it; 404 otherwise, so ids of others do not leak. */
  record(user: IAuthUser, id: string): IEndpointRecord {
    const ep = this.deps.table.get(id);
    if (ep === undefined || !visibleTo(user, ep)) {
      throw new DomainError('not_found', `No endpoint ${id}`);
    }
    return ep;
  }

  /** The endpoint if `user` owns it (admins too); 404 if unseen, 403 if only visible. */
  owned(user: IAuthUser, id: string): IEndpointRecord {
    const ep = this.record(user, id);
    if (ep.owner !== user.name && !user.admin) {
      throw new DomainError(
        'forbidden',
        `Only the owner of endpoint ${ep.name} may change it`
      );
    }
    return ep;
  }

  /** For the key routes: the owner of an endpoint, null when there is none. */
  ownerOf(id: string): string | null {
    return this.deps.table.get(id)?.owner ?? null;
  }

  /** An endpoint without a visibility check: for a course that shares it (src/courses). */
  shared(id: string): Endpoint | undefined {
    const ep = this.deps.table.get(id);
    return ep === undefined ? undefined : this.toEndpoint(ep);
  }

  get(user: IAuthUser, id: string): Endpoint {
    return this.toEndpoint(this.record(user, id), user);
  }

  /** Own endpoints and those shared with the user's groups; admins: all with `all`. */
  list(user: IAuthUser, all = false): Endpoint[] {
    if (all && !user.admin) {
      throw new DomainError('forbidden', 'Only admins may list all endpoints');
    }
    return this.deps.table
      .list()
      .filter(ep => all || ep.owner === user.name || sharedWith(user, ep))
      .map(ep => this.toEndpoint(ep, user));
  }

  async start(user: IAuthUser, id: string): Promise<Endpoint> {
    const ep = this.owned(user, id);
    await this.deps.controller.startEndpoint(ep.id);
    this.audit(user, 'endpoint.start', ep);
    return this.get(user, id);
  }

  async stop(user: IAuthUser, id: string): Promise<Endpoint> {
    const ep = this.owned(user, id);
    await this.deps.controller.stopEndpoint(
      ep.id,
      ep.owner === user.name
        ? 'Stopped by its owner'
        : `Stopped by ${user.name}`
    );
    this.audit(user, 'endpoint.stop', ep);
    return this.get(user, id);
  }

  async delete(user: IAuthUser, id: string): Promise<void> {
    const ep = this.owned(user, id);
    await this.deps.controller.deleteEndpoint(ep.id);
    this.audit(user, 'endpoint.delete', ep);
  }

  private audit(user: IAuthUser, action: string, ep: IEndpointRecord): void {
    this.deps.store.audit({
      user: user.name,
      action,
      target: ep.id,
      details: { owner: ep.owner, name: ep.name }
    });
  }
}
