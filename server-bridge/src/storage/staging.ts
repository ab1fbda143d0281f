/**
 * Moving a job's declared data between tiers and its working directory on the cluster:
 * what an input is (its version), whether an output may be written (access and quota,
 * reserved until the stage-out), and the copies themselves, streamed file by file. The
 * bridge reads and writes the tiers with its own credentials on the owner's behalf; the
 * job never sees them.
 */
import type { TierConfig } from '../config';
import type { ObjectVersion } from '../contract';
import { DomainError } from '../domain-error';
import type { IStorageEntry, IStoragePort } from '../ports/storage';
import type { ILocated, StorageCore } from './core';
import { joinPath, parentOf } from './paths';
import type { IStorageUser } from './tiers';

/** A tier path resolved for one user. */
export interface IStagedPlace {
  tier: string;
  scopeKey: string;
  scopeRoot: string;
  /** The path inside the tier (group folder first). */
  path: string;
}

export interface IStagedSource extends IStagedPlace {
  folder: boolean;
  version: ObjectVersion;
  /** The tier's class (data-class rules). */
  class: TierConfig['class'];
  /** Set when the tier is a directory on a cluster: its cluster and absolute path. */
  cluster: { name: string; path: string } | null;
}

export interface IStagedTarget extends IStagedPlace {
  class: TierConfig['class'];
}

/** An object a stage-out wrote, with its version right after. */
export interface IWrittenObject extends IStagedPlace {
  version: ObjectVersion;
}

/**
 * What a stage-out has copied so far, kept across restarts: a file recorded here whose
 * destination still has the recorded version (and whose source still has the recorded
 * size) is not copied again when the stage-out is resumed.
 */
export interface ICopyJournal {
  copied(
    tierPath: string
  ): { sourceSize: number | null; version: ObjectVersion } | undefined;
  record(
    tierPath: string,
    sourceSize: number | null,
    version: ObjectVersion
  ): void;
}

function sameVersion(a: ObjectVersion, b: ObjectVersion): boolean {
  return (
    a.size === b.size &&
    a.lastModified === b.lastModified &&
    (a.etag ?? null) === (b.etag ?? null)
  );
}

export function versionOf(entry: IStorageEntry): ObjectVersion {
  return {
    size: entry.size,
    lastModified: entry.lastModified?.toISOString() ?? null,
    ...(entry.etag === undefined ? {} : { etag: entry.etag })
  };
}

function placeOf(located: ILocated): IStagedPlace {
  return {
    tier: located.tier.name,
    scopeKey: located.scope.key,
    scopeRoot: located.opened.root,
    path: located.path
  };
}

export class StorageStaging {
  constructor(private readonly core: StorageCore) {}

  /** The object at `path`: 404 when the user cannot read it or nothing is there. */
  async source(
    user: IStorageUser,
    tierName: string,
    path: string
  ): Promise<IStagedSource> {
    return this.core.run(user, tierName, 'stat', path, async tier => {
      const located = this.core.locate(user, tier, path, 'read', {
        item: true
      });
      const entry = await this.core.existing(located);
      return {
        ...placeOf(located),
        folder: entry.type === 'directory',
        version: versionOf(entry),
        class: tier.class,
        cluster:
          'sftp' in tier.location
            ? {
                name: tier.location.sftp.cluster,
                path: joinPath(located.opened.root, located.rest)
              }
            : null
      };
    });
  }

  /**
   * The output at `path`: 403 when the user may not write there, 413 when its quota
   * cannot hold `estimateBytes`, which stay reserved (`reservationId`) until `release`
   * or `expiresAt`.
   */
  async target(
    user: IStorageUser,
    tierName: string,
    path: string,
    reservation: { id: string; bytes: number; expiresAt: number }
  ): Promise<IStagedTarget> {
    return this.core.run(user, tierName, 'stat', path, async tier => {
      const located = this.core.locate(user, tier, path, 'write', {
        item: true
      });
      await this.core.reserve(located, reservation.bytes, {
        id: reservation.id,
        expiresAt: reservation.expiresAt
      });
      return { ...placeOf(located), class: tier.class };
    });
  }

  /** Where `path` is for `user`, who must be able to read it (404/403 otherwise). */
  readablePlace(
    user: IStorageUser,
    tierName: string,
    path: string
  ): IStagedPlace {
    const tier = this.core.directory.tier(tierName, user);
    return placeOf(this.core.locate(user, tier, path, 'read', { item: true }));
  }

  release(reservationId: string): void {
    this.core.reservations.release(reservationId);
  }

  /** Releases every reservation whose id starts with `prefix`. */
  releaseAll(prefix: string): void {
    this.core.reservations.releaseAll(prefix);
  }

  /** Copies the input (a file, or a folder with everything in it) to `to` on `target`. */
  async copyIn(
    user: IStorageUser,
    from: IStagedPlace,
    target: IStoragePort,
    to: string
  ): Promise<number> {
    return this.core.run(user, from.tier, 'read', from.path, async tier => {
      const source = this.core.locate(user, tier, from.path, 'read', {
        item: true
      });
      let files = 0;
      for await (const file of source.port.walk(source.rest)) {
        if (file.type !== 'file') {
          continue;
        }
        const rel =
          file.path === source.rest
            ? to
            : joinPath(to, file.path.slice(source.rest.length + 1));
        await copyFile(source.port, file.path, target, rel);
        files += 1;
      }
      return files;
    });
  }

  /**
   * Copies `from` on `source` (a file, or every file below a folder) to the tier path
   * `to` as `user`, and answers each object written with its version. Each copy is
   * checked (the destination holds as many bytes as the source) and recorded in
   * `journal`; a file the journal shows as copied and unchanged since is not copied again.
   */
  async copyOut(
    user: IStorageUser,
    source: IStoragePort,
    from: string,
    to: IStagedPlace,
    folder: boolean,
    journal?: ICopyJournal
  ): Promise<IWrittenObject[]> {
    return this.core.run(user, to.tier, 'write', to.path, async tier => {
      const target = this.core.locate(user, tier, to.path, 'write', {
        item: true
      });
      const written: IWrittenObject[] = [];
      try {
        const files: IStorageEntry[] = [];
        for await (const f of source.walk(from)) {
          if (f.type === 'file') {
            files.push(f);
          }
        }
        if (files.length === 0) {
          throw new DomainError(
            'not_found',
            `the job wrote nothing at ${from} for ${to.tier}:${to.path}`
          );
        }
        for (const file of files) {
          const rest = folder
            ? joinPath(target.rest, file.path.slice(from.length + 1))
            : target.rest;
          const path = this.core.tierPath(target, rest);
          const version = await copyChecked(
            source,
            file,
            target.port,
            rest,
            journal?.copied(path)
          );
          journal?.record(path, file.size, version);
          written.push({ ...placeOf(target), path, version });
        }
      } finally {
        this.core.usage.invalidate(target.opened.usageKey);
      }
      return written;
    });
  }
}

/**
 * Copies one file unless `before` (what an earlier try of the same copy wrote) is still
 * at `to` for a source of the same size; answers the destination's version, after
 * checking that it holds the source's bytes.
 */
async function copyChecked(
  source: IStoragePort,
  file: IStorageEntry,
  target: IStoragePort,
  to: string,
  before: { sourceSize: number | null; version: ObjectVersion } | undefined
): Promise<ObjectVersion> {
  if (before !== undefined && before.sourceSize === file.size) {
    const there = await target.stat(to);
    if (there !== null && sameVersion(versionOf(there), before.version)) {
      return before.version;
    }
  }
  await copyFile(source, file.path, target, to);
  const entry = await target.stat(to);
  if (entry === null) {
    return { size: file.size, lastModified: null };
  }
  if (file.size !== null && entry.size !== null && entry.size !== file.size) {
    throw new DomainError(
      'internal',
      `${to} holds ${entry.size} of the ${file.size} bytes copied`
    );
  }
  return versionOf(entry);
}

async function copyFile(
  source: IStoragePort,
  from: string,
  target: IStoragePort,
  to: string
): Promise<void> {
  const read = await source.read(from);
  if (read === null) {
    throw new DomainError('not_found', `${from} vanished during the copy`);
  }
  const parent = parentOf(to);
  if (parent !== '') {
    await target.mkdir(parent);
  }
  await target.write(to, read.body, { size: read.size });
}
