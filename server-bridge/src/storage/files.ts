/** Listing, reading, writing and changing files of a tier, as one user. */
import type { Readable } from 'node:stream';
import type { FileEntry, FileList, UploadResult } from '../contract';
import { DomainError } from '../domain-error';
import type {
  IByteRange,
  IStorageEntry,
  IStorageRead,
  IWriteResult
} from '../ports/storage';
import type { ILocated, StorageCore } from './core';
import { groupsOf, isGroupTier, type IStorageUser } from './tiers';
import { openCursor, sealCursor } from './cursor';
import { contentTypeOf } from './paths';

export function fileEntryOf(located: ILocated, e: IStorageEntry): FileEntry {
  return {
    name: e.name,
    path: located.scope.key === '' ? e.path : `${located.scope.key}/${e.path}`,
    type: e.type,
    size: e.type === 'directory' ? null : e.size,
    lastModified: e.lastModified?.toISOString() ?? null,
    writable: located.scope.access === 'write'
  };
}

/**
 * The entry at `path` after a write or mkdir; `made` describes it when the store does
 * not list it yet.
 */
async function entryAfter(
  located: ILocated,
  path: string,
  made: Pick<IStorageEntry, 'type' | 'size' | 'lastModified'>
): Promise<FileEntry> {
  const entry = (await located.port.stat(located.rest)) ?? {
    name: path.slice(path.lastIndexOf('/') + 1),
    path: located.rest,
    ...made
  };
  return fileEntryOf(located, entry);
}

export interface IContent extends IStorageRead {
  entry: FileEntry;
  /** Set when a range was asked for. */
  range?: IByteRange;
}

export interface IWriteRequest {
  size: number;
  overwrite: boolean;
  sha256?: string;
  signal?: AbortSignal;
}

export class StorageFiles {
  constructor(private readonly core: StorageCore) {}

  async list(
    user: IStorageUser,
    tierName: string,
    path: string,
    limit: number,
    cursor?: string
  ): Promise<FileList> {
    return this.core.run(
      user,
      tierName,
      'list',
      path,
      async tier => {
        const resolved = this.core.directory.resolve(tier, user, path);
        if (resolved.scope === null && isGroupTier(tier)) {
          return {
            path,
            entries: groupsOf(tier, user).map(g => ({
              name: g,
              path: g,
              type: 'directory' as const,
              size: null,
              lastModified: null,
              writable: false
            })),
            nextCursor: null
          };
        }
        const located = this.core.locate(user, tier, path, 'read');
        if (located.rest !== '') {
          const stat = await located.port.stat(located.rest);
          if (stat === null) {
            throw new DomainError(
              'not_found',
              `${tier.name}:${path}: no such folder`
            );
          }
          if (stat.type !== 'directory') {
            throw new DomainError(
              'bad_request',
              `${tier.name}:${path} is a file, not a folder`
            );
          }
        }
        const folder = `${tier.name}\0${user.name}\0${path}`;
        const page = await located.port.list(
          located.rest,
          limit,
          cursor === undefined ? undefined : openCursor(folder, cursor)
        );
        return {
          path,
          entries: page.entries.map(e => fileEntryOf(located, e)),
          nextCursor:
            page.nextCursor === null
              ? null
              : sealCursor(folder, page.nextCursor)
        };
      },
      r => ({ entries: r.entries.length })
    );
  }

  async stat(
    user: IStorageUser,
    tierName: string,
    path: string
  ): Promise<FileEntry> {
    return this.core.run(user, tierName, 'stat', path, async tier => {
      const located = this.core.locate(user, tier, path, 'read');
      if (located.rest === '') {
        return {
          name: located.scope.key,
          path,
          type: 'directory',
          size: null,
          lastModified: null,
          writable: false
        };
      }
      const entry = await located.port.stat(located.rest);
      if (entry === null) {
        throw new DomainError(
          'not_found',
          `${tier.name}:${path}: no such file or folder`
        );
      }
      return fileEntryOf(located, entry);
    });
  }

  /** The bytes of a file (or a range); the caller streams `body` and must consume or destroy it. */
  async read(
    user: IStorageUser,
    tierName: string,
    path: string,
    range?: (size: number) => IByteRange | undefined
  ): Promise<IContent> {
    return this.core.runOnItem(
      user,
      tierName,
      'read',
      path,
      'read',
      async located => this.readLocated(located, range),
      r => ({
        size: r.size,
        ...(r.range === undefined ? {} : { range: r.range })
      })
    );
  }

  async readLocated(
    located: ILocated,
    range?: (size: number) => IByteRange | undefined
  ): Promise<IContent> {
    const { tier, path } = located;
    const stat = await located.port.stat(located.rest);
    if (stat === null) {
      throw new DomainError('not_found', `${tier.name}:${path}: no such file`);
    }
    if (stat.type === 'directory') {
      throw new DomainError('bad_request', `${tier.name}:${path} is a folder`);
    }
    const wanted = range?.(stat.size ?? 0);
    const read = await located.port.read(located.rest, wanted);
    if (read === null) {
      throw new DomainError('not_found', `${tier.name}:${path}: no such file`);
    }
    return {
      ...read,
      entry: fileEntryOf(located, stat),
      ...(wanted === undefined ? {} : { range: wanted })
    };
  }

  /** Streams `body` to the tier: quota first, then atomically, checked by size and SHA-256. */
  async write(
    user: IStorageUser,
    tierName: string,
    path: string,
    body: Readable,
    request: IWriteRequest
  ): Promise<UploadResult> {
    return this.core.runOnItem(
      user,
      tierName,
      'write',
      path,
      'write',
      async (located, tier) => {
        // The claim makes the check below and the write one step for other writers.
        const claim = this.core.claim(located);
        let written: IWriteResult;
        let existing: IStorageEntry | null;
        try {
          existing = await located.port.stat(located.rest);
          if (existing?.type === 'directory') {
            throw new DomainError(
              'conflict',
              `${tier.name}:${path} is a folder`
            );
          }
          if (existing !== null && !request.overwrite) {
            throw new DomainError(
              'conflict',
              `${tier.name}:${path} already exists`
            );
          }
          const reservation = await this.core.reserve(located, request.size, {
            replaced: existing?.size ?? 0
          });
          try {
            written = await located.port.write(located.rest, body, {
              size: request.size,
              exclusive: !request.overwrite,
              contentType: contentTypeOf(path),
              ...(request.sha256 === undefined
                ? {}
                : { sha256: request.sha256 }),
              ...(request.signal === undefined
                ? {}
                : { signal: request.signal })
            });
            this.core.settle(located, request.size - (existing?.size ?? 0));
          } catch (e) {
            // Discard the rest of the body so the answer can still be sent.
            body.resume();
            throw e;
          } finally {
            reservation.release();
          }
        } finally {
          claim.release();
        }
        const entry = await entryAfter(located, path, {
          type: 'file',
          size: request.size,
          lastModified: new Date(this.core.now())
        });
        return { entry, sha256: written.sha256 };
      },
      r => ({ size: r.entry.size, sha256: r.sha256 })
    );
  }

  async mkdir(
    user: IStorageUser,
    tierName: string,
    path: string
  ): Promise<FileEntry> {
    return this.core.run(user, tierName, 'mkdir', path, async tier => {
      const located = this.core.locate(user, tier, path, 'write', {
        item: true
      });
      const existing = await located.port.stat(located.rest);
      if (existing?.type === 'file') {
        throw new DomainError('conflict', `${tier.name}:${path} is a file`);
      }
      await located.port.mkdir(located.rest);
      return entryAfter(located, path, {
        type: 'directory',
        size: null,
        lastModified: null
      });
    });
  }

  async rename(
    user: IStorageUser,
    tierName: string,
    from: string,
    to: string
  ): Promise<FileEntry> {
    return this.core.run(
      user,
      tierName,
      'rename',
      from,
      async tier => {
        const source = this.core.locate(user, tier, from, 'write', {
          item: true
        });
        const target = this.core.locate(user, tier, to, 'write', {
          item: true
        });
        if (source.scope.key !== target.scope.key) {
          throw new DomainError(
            'bad_request',
            'Moving between group folders is not possible: copy, then delete'
          );
        }
        if (
          target.rest === source.rest ||
          target.rest.startsWith(`${source.rest}/`)
        ) {
          throw new DomainError(
            'bad_request',
            'A folder cannot be moved into itself'
          );
        }
        if ((await source.port.stat(source.rest)) === null) {
          throw new DomainError(
            'not_found',
            `${tier.name}:${from}: no such file or folder`
          );
        }
        if ((await target.port.stat(target.rest)) !== null) {
          throw new DomainError(
            'conflict',
            `${tier.name}:${to} already exists`
          );
        }
        await source.port.rename(source.rest, target.rest);
        const entry = await target.port.stat(target.rest);
        if (entry === null) {
          throw new DomainError(
            'not_found',
            `${tier.name}:${to}: not found after the move`
          );
        }
        return fileEntryOf(target, entry);
      },
      () => ({ to })
    );
  }

  async delete(
    user: IStorageUser,
    tierName: string,
    path: string
  ): Promise<void> {
    return this.core.run(user, tierName, 'delete', path, async tier => {
      const located = this.core.locate(user, tier, path, 'write', {
        item: true
      });
      const existing = await this.core.existing(located);
      await located.port.delete(located.rest);
      if (existing.type === 'file') {
        this.core.usage.add(located.opened.usageKey, -(existing.size ?? 0));
      } else {
        this.core.usage.invalidate(located.opened.usageKey);
      }
    });
  }
}
