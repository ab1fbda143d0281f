/** The storage domain: tiers per user, files, copies, uploads, links, code access, audit. */
import type { TierConfig } from '../config';
import type { Tier, TierUsage } from '../contract';
import type { Store } from '../store';
import { StorageAudit } from './audit';
import { StorageCodeAccess } from './code-access';
import { StorageCore } from './core';
import { StorageFiles } from './files';
import { StorageLinks } from './links';
import { StorageStaging } from './staging';
import type { TierPorts } from './ports';
import { type Clock, UsageCache } from './quota';
import { LinkTable, UploadTable } from './repository/records';
import { ReservationTable } from './repository/reservations';
import { TransferTable } from './repository/transfers';
import {
  isGroupTier,
  scopesOf,
  tierAccess,
  TierDirectory,
  type IStorageUser
} from './tiers';
import { StorageTransfers } from './transfers';
import { StorageUploads } from './uploads';

export interface IStorageServiceDeps {
  tiers: readonly TierConfig[];
  ports: TierPorts;
  store: Store;
  now?: Clock;
  /** How long a usage figure is reused; default 30 s. */
  usageTtlMs?: number;
  /** How long `tiers()` waits for a usage figure before answering null; default 3 s. */
  usageWaitMs?: number;
  /** The replica whose requests hold the reservations and claims (default: local). */
  replica?: string;
}

const UNKNOWN: TierUsage = { bytes: null, quotaBytes: null, measuredAt: null };

export class StorageService {
  readonly core: StorageCore;
  readonly files: StorageFiles;
  readonly transfers: StorageTransfers;
  readonly uploads: StorageUploads;
  readonly links: StorageLinks;
  readonly codeAccess: StorageCodeAccess;
  /** A job's declared inputs and outputs. */
  readonly staging: StorageStaging;
  private readonly usageWaitMs: number;

  constructor(deps: IStorageServiceDeps) {
    this.core = new StorageCore(
      new TierDirectory(deps.tiers),
      deps.ports,
      new StorageAudit(deps.store),
      new ReservationTable(deps.store, deps.replica),
      new UsageCache(deps.store, deps.usageTtlMs, deps.now),
      deps.now
    );
    this.files = new StorageFiles(this.core);
    this.transfers = new StorageTransfers(
      this.core,
      new TransferTable(deps.store)
    );
    this.uploads = new StorageUploads(this.core, new UploadTable(deps.store));
    this.links = new StorageLinks(
      this.core,
      this.files,
      new LinkTable(deps.store)
    );
    this.codeAccess = new StorageCodeAccess(this.core);
    this.staging = new StorageStaging(this.core);
    this.usageWaitMs = deps.usageWaitMs ?? 3000;
  }

  /** The tiers the user may see, with usage per scope (null where not measured in time). */
  async tiers(user: IStorageUser): Promise<Tier[]> {
    return Promise.all(
      this.core.directory.visible(user).map(async tier => {
        const groupTier = isGroupTier(tier);
        const scopes = scopesOf(tier, user);
        const usage: Record<string, TierUsage> = {};
        await Promise.all(
          scopes.map(async scope => {
            usage[scope.key] = await this.usageOf(tier, user, scope);
          })
        );
        return {
          name: tier.name,
          title: tier.title,
          ...(tier.description === undefined
            ? {}
            : { description: tier.description }),
          class: tier.class,
          adapter: 's3' in tier.location ? ('s3' as const) : ('sftp' as const),
          access: tierAccess(tier, user) ?? 'read',
          groups: groupTier ? scopes.map(s => s.key) : null,
          usage,
          ...(tier.retention === undefined
            ? {}
            : { retention: tier.retention }),
          links: tier.class === 'public',
          audited: tier.class === 'sensitive',
          directUpload: this.core.ports.directUpload(tier),
          codeAccess: tier.class !== 'sensitive'
        };
      })
    );
  }

  private async usageOf(
    tier: TierConfig,
    user: IStorageUser,
    scope: ReturnType<typeof scopesOf>[number]
  ): Promise<TierUsage> {
    const quotaBytes = tier.quota ?? null;
    try {
      const opened = this.core.ports.open(tier, user.name, scope);
      const measuring = this.core.measure(opened);
      measuring.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<null>(resolve => {
        timer = setTimeout(() => resolve(null), this.usageWaitMs);
      });
      const usage = await Promise.race([measuring, late]).finally(() =>
        clearTimeout(timer)
      );
      return usage === null
        ? { ...UNKNOWN, quotaBytes }
        : {
            bytes: usage.bytes,
            quotaBytes,
            measuredAt: usage.measuredAt.toISOString()
          };
    } catch {
      return { ...UNKNOWN, quotaBytes };
    }
  }
}
