/**
 * What the admin dashboard answers: an overview of every user's jobs, endpoints and tier
 * usage, and usage per user or group in a time window. Reads the features' repositories
 * and the figures the services already hold; starts no backend work of its own.
 */
import type { IAuthUser } from '../auth/decide';
import type { TierConfig } from '../config';
import type {
  AdminOverview,
  AdminTierScope,
  AdminUsage,
  AdminUsageRow,
  JobState
} from '../contract';
import { CredentialTable } from '../credentials/repository/credentials';
import { EndpointTable } from '../endpoints/repository/endpoints';
import { EndpointKeyTable } from '../endpoints/repository/keys';
import { UsageTable } from '../endpoints/repository/usage';
import type { EndpointService } from '../endpoints/service';
import { DomainError } from '../domain-error';
import { JobTable } from '../jobs/repository/jobs';
import type { StorageService } from '../storage/service';
import type { Store } from '../store';
import {
  computeHours,
  overlapSeconds,
  roundHours,
  runOf,
  RUNNING_JOBS_NOTE,
  type IWindow
} from './compute-hours';
import type { GroupDirectory, GroupMembers } from './hub-groups';
import { auditedUsers } from './repository/audit';
import { tierScopes } from './tier-usage';

const DEFAULT_WINDOW_MS = 30 * 24 * 3600 * 1000;

export interface IAdminDashboardDeps {
  store: Store;
  tiers: readonly TierConfig[];
  storage?: StorageService;
  endpoints?: EndpointService;
  /** Writes the gateway's counted tokens now, so that usage includes them. */
  flushTokens?: () => void;
  groups?: GroupDirectory;
  now?: () => number;
}

export interface IOverviewFilter {
  user?: string;
  state?: JobState;
  since?: string;
  limit: number;
}

export class AdminDashboard {
  private readonly jobs: JobTable;
  private readonly endpointTable: EndpointTable;
  private readonly keys: EndpointKeyTable;
  private readonly credentials: CredentialTable;
  private readonly usageTable: UsageTable;
  private readonly now: () => number;

  constructor(private readonly deps: IAdminDashboardDeps) {
    this.jobs = new JobTable(deps.store);
    this.endpointTable = new EndpointTable(deps.store);
    this.keys = new EndpointKeyTable(deps.store);
    this.credentials = new CredentialTable(deps.store);
    this.usageTable = new UsageTable(deps.store);
    this.now = deps.now ?? Date.now;
  }

  /** Everyone the bridge has seen: owners of jobs, endpoints and keys, audited users. */
  knownUsers(): string[] {
    const names = new Set([
      ...this.jobs.owners(),
      ...this.endpointTable.owners(),
      ...this.keys.owners(),
      ...this.credentials.users(),
      ...auditedUsers(this.deps.store)
    ]);
    // Byte order of UTF-8, as SQLite sorted them.
    return [...names].sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b))
    );
  }

  private async groupsOrNull(): Promise<GroupMembers | null> {
    if (this.deps.groups === undefined) {
      return null;
    }
    try {
      return await this.deps.groups();
    } catch {
      return null;
    }
  }

  private scopes(users: readonly string[]): AdminTierScope[] {
    return this.deps.storage === undefined
      ? []
      : tierScopes(this.deps.tiers, this.deps.storage, users);
  }

  async overview(admin: IAuthUser, f: IOverviewFilter): Promise<AdminOverview> {
    const counts: Record<string, number> = {};
    let total = 0;
    for (const row of this.jobs.countByState({
      ...(f.user === undefined ? {} : { owner: f.user }),
      ...(f.since === undefined
        ? {}
        : { since: new Date(f.since).toISOString() })
    })) {
      counts[row.state] = row.n;
      total += row.n;
    }
    const newest = this.jobs
      .list(
        {
          ...(f.user === undefined ? {} : { owner: f.user }),
          ...(f.state === undefined ? {} : { state: f.state }),
          ...(f.since === undefined
            ? {}
            : { since: new Date(f.since).toISOString() })
        },
        f.limit
      )
      .map(({ job }) => ({
        id: job.id,
        owner: job.owner,
        name: job.name,
        cluster: job.cluster,
        profile: job.profile,
        partition: job.partition,
        state: job.state,
        elements: job.elements.length,
        cpus: job.resources.cpus,
        gpus: job.resources.gpus,
        submittedAt: job.submittedAt,
        updatedAt: job.updatedAt
      }));
    const endpoints = (this.deps.endpoints?.list(admin, true) ?? [])
      .filter(ep => f.user === undefined || ep.owner === f.user)
      .map(ep => ({
        id: ep.id,
        name: ep.name,
        owner: ep.owner,
        model: ep.model,
        provider: ep.provider,
        state: ep.state,
        readyReplicas: ep.replicas.filter(r => r.state === 'ready').length,
        visibility: ep.visibility,
        group: ep.group,
        createdAt: ep.createdAt
      }));
    let tiers = this.scopes(
      f.user === undefined ? this.knownUsers() : [f.user]
    );
    if (f.user !== undefined) {
      const groups = await this.groupsOrNull();
      const user = f.user;
      tiers = tiers.filter(
        s =>
          s.scope === 'user' ||
          groups === null ||
          (groups.get(s.name) ?? []).includes(user)
      );
    }
    return { jobs: { counts, total, newest }, endpoints, tiers };
  }

  /** The window of a usage query: `until` defaults to now, `since` to 30 days before it. */
  windowOf(since?: string, until?: string): IWindow {
    const to = until === undefined ? this.now() : Date.parse(until);
    const from =
      since === undefined ? to - DEFAULT_WINDOW_MS : Date.parse(since);
    if (from >= to) {
      throw new DomainError('bad_request', '"since" must be before "until"');
    }
    return { since: from, until: to };
  }

  /** Core-hours, GPU-hours, job count and tokens per user in the window. */
  private perUser(window: IWindow): Map<string, AdminUsageRow> {
    const now = this.now();
    const rows = new Map<string, AdminUsageRow>();
    const row = (name: string): AdminUsageRow => {
      let r = rows.get(name);
      if (r === undefined) {
        r = { name, jobs: 0, coreHours: 0, gpuHours: 0, tokens: 0, bytes: 0 };
        rows.set(name, r);
      }
      return r;
    };
    const untilIso = new Date(window.until).toISOString();
    for (const job of this.jobs.submittedUntil(untilIso)) {
      const submitted = Date.parse(job.submittedAt);
      const ranInWindow = job.elements.some(e => {
        const run = runOf(e, now);
        return run !== null && overlapSeconds(run, window) > 0;
      });
      if (!ranInWindow && submitted < window.since) {
        continue;
      }
      const hours = computeHours(job, window, now);
      const u = row(job.owner);
      u.jobs += 1;
      u.coreHours += hours.coreHours;
      u.gpuHours += hours.gpuHours;
    }
    this.deps.flushTokens?.();
    for (const t of this.usageTable.tokensPerOwner(
      Math.floor(window.since / 60_000),
      Math.floor(window.until / 60_000)
    )) {
      row(t.owner).tokens += t.tokens;
    }
    return rows;
  }

  async usage(
    by: 'user' | 'group',
    since?: string,
    until?: string
  ): Promise<AdminUsage> {
    const window = this.windowOf(since, until);
    const users = this.perUser(window);
    let rows: AdminUsageRow[];
    if (by === 'user') {
      for (const s of this.scopes(this.knownUsers())) {
        if (s.scope === 'user' && s.bytes !== null) {
          const r = users.get(s.name) ?? {
            name: s.name,
            jobs: 0,
            coreHours: 0,
            gpuHours: 0,
            tokens: 0,
            bytes: 0
          };
          r.bytes += s.bytes;
          users.set(s.name, r);
        }
      }
      rows = [...users.values()];
    } else {
      const groups = await this.groupsOrNull();
      if (groups === null) {
        throw new DomainError(
          'upstream_unavailable',
          'Usage per group needs the hub’s group list, and the hub did not give it (the bridge’s service role needs read:groups)'
        );
      }
      const groupBytes = new Map<string, number>();
      for (const s of this.scopes([])) {
        if (s.scope === 'group' && s.bytes !== null) {
          groupBytes.set(s.name, (groupBytes.get(s.name) ?? 0) + s.bytes);
        }
      }
      rows = [...groups.entries()]
        .filter(([, members]) => members.length > 0)
        .map(([name, members]) => {
          const r: AdminUsageRow = {
            name,
            members: [...members].sort(),
            jobs: 0,
            coreHours: 0,
            gpuHours: 0,
            tokens: 0,
            bytes: groupBytes.get(name) ?? 0
          };
          for (const m of members) {
            const u = users.get(m);
            if (u !== undefined) {
              r.jobs += u.jobs;
              r.coreHours += u.coreHours;
              r.gpuHours += u.gpuHours;
              r.tokens += u.tokens;
            }
          }
          return r;
        });
    }
    return {
      since: new Date(window.since).toISOString(),
      until: new Date(window.until).toISOString(),
      by,
      note: `${RUNNING_JOBS_NOTE} Hours are elapsed time × the job’s CPUs (GPUs) for every array element. Bytes: ${by === 'user' ? 'the user’s own scopes of per-user tiers' : 'the group’s folders of group tiers'}, as last measured.`,
      rows: rows
        .map(r => ({
          ...r,
          coreHours: roundHours(r.coreHours),
          gpuHours: roundHours(r.gpuHours)
        }))
        .sort((a, b) => a.name.localeCompare(b.name))
    };
  }
}
