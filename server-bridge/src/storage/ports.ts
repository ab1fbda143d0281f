/**
 * Opens the storage port of one scope of a tier: an S3 store on `bucket` + resolved
 * prefix, or the user's SFTP session on the resolved cluster path.
 */
import type { ClusterConfig, TierConfig } from '../config';
import { clusterUserOf } from '../credentials/access';
import { DomainError } from '../domain-error';
import type { IStoragePort } from '../ports/storage';
import { rootOf, type IScope } from './tiers';

/** What an S3 store offers the service (`S3Store`). */
export interface IS3StoreOpener {
  open(bucket: string, prefix: string): IStoragePort;
  /** Browsers can reach the store (presigned part URLs are usable there). */
  readonly browserReachable: boolean;
}

/** A port on `root` of `cluster`, acting as the hub user's cluster account. */
export type SftpOpener = (
  cluster: string,
  hubUser: string,
  root: string
) => IStoragePort;

export interface IOpenedScope {
  port: IStoragePort;
  /** `alice/` (S3 prefix) or `/scratch/alice` (cluster path). */
  root: string;
  /** Cache key of the scope's usage: tier + root. */
  usageKey: string;
}

export class TierPorts {
  constructor(
    private readonly deps: {
      s3: ReadonlyMap<string, IS3StoreOpener>;
      clusters: readonly ClusterConfig[];
      sftp?: SftpOpener;
    }
  ) {}

  /** The scope's root without opening anything (for usage keys and code snippets). */
  rootOf(tier: TierConfig, hubUser: string, scope: IScope): string {
    if ('s3' in tier.location) {
      return rootOf(tier.location.s3.prefix, hubUser, scope);
    }
    const { cluster, path } = tier.location.sftp;
    const c = this.deps.clusters.find(k => k.name === cluster);
    if (c === undefined) {
      throw new DomainError('upstream_unavailable', `No cluster "${cluster}"`);
    }
    return rootOf(path, clusterUserOf(c.userMapping, hubUser), scope);
  }

  /** The cache key of the scope's usage (tier + root). */
  usageKeyOf(tier: TierConfig, hubUser: string, scope: IScope): string {
    return `${tier.name}\0${this.rootOf(tier, hubUser, scope)}`;
  }

  open(tier: TierConfig, hubUser: string, scope: IScope): IOpenedScope {
    const root = this.rootOf(tier, hubUser, scope);
    const usageKey = this.usageKeyOf(tier, hubUser, scope);
    if ('s3' in tier.location) {
      const store = this.deps.s3.get(tier.location.s3.store);
      if (store === undefined) {
        throw new DomainError(
          'upstream_unavailable',
          `Storage tier ${tier.name}: no S3 store "${tier.location.s3.store}"`
        );
      }
      return {
        port: store.open(tier.location.s3.bucket, root),
        root,
        usageKey
      };
    }
    if (this.deps.sftp === undefined) {
      throw new DomainError(
        'upstream_unavailable',
        `Storage tier ${tier.name}: cluster access is not configured`
      );
    }
    return {
      port: this.deps.sftp(tier.location.sftp.cluster, hubUser, root),
      root,
      usageKey
    };
  }

  /** Whether multipart parts may go straight from the browser to S3 on this tier. */
  directUpload(tier: TierConfig): boolean {
    return (
      's3' in tier.location &&
      tier.class !== 'sensitive' &&
      this.deps.s3.get(tier.location.s3.store)?.browserReachable === true
    );
  }
}

/**
 * Wraps every call of `port` in `guard` (e.g. `ClusterAccess.run`, which turns a refused
 * key into 412 and an unreachable cluster into 503).
 */
export function guardedPort(
  port: IStoragePort,
  guard: <T>(fn: () => Promise<T>) => Promise<T>
): IStoragePort {
  const copyWithin = port.copyWithin?.bind(port);
  return {
    list: (dir, limit, cursor) => guard(() => port.list(dir, limit, cursor)),
    stat: path => guard(() => port.stat(path)),
    read: (path, range) => guard(() => port.read(path, range)),
    write: (path, body, options) =>
      guard(() => port.write(path, body, options)),
    mkdir: path => guard(() => port.mkdir(path)),
    rename: (from, to) => guard(() => port.rename(from, to)),
    delete: path => guard(() => port.delete(path)),
    usage: () => guard(() => port.usage()),
    walk: path => guardedWalk(port, path, guard),
    ...(copyWithin === undefined
      ? {}
      : { copyWithin: (from, to) => guard(() => copyWithin(from, to)) }),
    ...(port.direct === undefined ? {} : { direct: port.direct })
  };
}

async function* guardedWalk(
  port: IStoragePort,
  path: string,
  guard: <T>(fn: () => Promise<T>) => Promise<T>
): AsyncIterable<import('../ports/storage').IStorageEntry> {
  try {
    yield* port.walk(path);
  } catch (e) {
    await guard(() => Promise.reject(e));
  }
}
