/**
 * Anonymous share links, possible on `public` tiers only. A link names a file by its
 * owner and tier path and is bound to the file's size and modification time when it was
 * made; it answers until it expires or is revoked, or the file is replaced or deleted.
 * Every failure of the anonymous route (unknown, expired, revoked, file gone or changed)
 * gives the same 404, so that links cannot be probed.
 */
import { Routes, type ShareLink, type ShareLinkCreate } from '../contract';
import { DomainError, isRefusal } from '../domain-error';
import { DATA_CLASS_RULES, policyRefusal } from '../policy/data-classes';
import type { IStorageEntry } from '../ports/storage';
import type { StorageCore } from './core';
import type { IContent, StorageFiles } from './files';
import {
  randomId,
  type IShareLinkRecord,
  type LinkTable
} from './repository/records';
import { isGroupTier, type IStorageUser } from './tiers';

export const LINK_GONE = 'This link does not exist or has expired';

/** What a link is bound to: the file as it was (a new file at the path is another). */
export function fileVersion(entry: IStorageEntry): string {
  return `${entry.size ?? 0}:${entry.lastModified?.getTime() ?? 0}`;
}

export class StorageLinks {
  constructor(
    private readonly core: StorageCore,
    private readonly files: StorageFiles,
    private readonly table: LinkTable
  ) {}

  async create(
    user: IStorageUser,
    tierName: string,
    request: Required<ShareLinkCreate>,
    baseUrl: string
  ): Promise<ShareLink> {
    const record = await this.core.run(
      user,
      tierName,
      'link',
      request.path,
      async tier => {
        if (tier.class !== 'public') {
          throw policyRefusal(
            DATA_CLASS_RULES.publicLinks,
            `tier ${tier.name} has class ${tier.class}, not public`,
            { tier: tier.name, class: tier.class }
          );
        }
        const located = this.core.locate(user, tier, request.path, 'read', {
          item: true
        });
        const stat = await located.port.stat(located.rest);
        if (stat === null) {
          throw new DomainError(
            'not_found',
            `${tier.name}:${request.path}: no such file`
          );
        }
        if (stat.type !== 'file') {
          throw new DomainError(
            'bad_request',
            'Share links point at files, not folders'
          );
        }
        const now = this.core.now();
        const link: IShareLinkRecord = {
          id: randomId(),
          tier: tier.name,
          owner: user.name,
          path: request.path,
          createdAt: new Date(now).toISOString(),
          expiresAt: new Date(
            now + request.expiresInSeconds * 1000
          ).toISOString(),
          revokedAt: null,
          version: fileVersion(stat)
        };
        this.table.insert(link);
        return link;
      }
    );
    return this.view(record, baseUrl);
  }

  list(user: IStorageUser, baseUrl: string, tier?: string): ShareLink[] {
    return this.table.byOwner(user.name, tier).map(l => this.view(l, baseUrl));
  }

  revoke(user: IStorageUser, id: string, baseUrl: string): ShareLink {
    const link = this.table.get(id);
    if (link === undefined || link.owner !== user.name) {
      throw new DomainError('not_found', `No share link ${id}`);
    }
    this.table.revoke(id, new Date(this.core.now()).toISOString());
    return this.view(this.table.get(id) ?? link, baseUrl);
  }

  /** The file behind a live link, read as its owner; 404 (one sentence) otherwise. */
  async open(id: string): Promise<IContent> {
    const link = this.table.get(id);
    const tier =
      link === undefined ? undefined : this.core.directory.byName(link.tier);
    if (
      link === undefined ||
      tier === undefined ||
      tier.class !== 'public' ||
      link.revokedAt !== null ||
      Date.parse(link.expiresAt) <= this.core.now()
    ) {
      throw new DomainError('not_found', LINK_GONE);
    }
    const slash = link.path.indexOf('/');
    const group =
      isGroupTier(tier) && slash > 0 ? link.path.slice(0, slash) : '';
    const rest = group === '' ? link.path : link.path.slice(slash + 1);
    try {
      const scope = { key: group, access: 'read' as const };
      const opened = this.core.ports.open(tier, link.owner, scope);
      const content = await this.files.readLocated({
        tier,
        scope,
        rest,
        path: link.path,
        opened,
        port: opened.port
      });
      if (
        link.version !== null &&
        link.version !==
          fileVersion({
            name: '',
            path: rest,
            type: 'file',
            size: content.entry.size,
            lastModified:
              content.entry.lastModified === null
                ? null
                : new Date(content.entry.lastModified)
          })
      ) {
        content.body.destroy();
        throw new DomainError('not_found', LINK_GONE);
      }
      return content;
    } catch (e) {
      if (isRefusal(e)) {
        throw new DomainError('not_found', LINK_GONE);
      }
      throw e;
    }
  }

  private view(link: IShareLinkRecord, baseUrl: string): ShareLink {
    return {
      id: link.id,
      tier: link.tier,
      path: link.path,
      url: `${baseUrl}${Routes.publicLink(link.id)}`,
      createdAt: link.createdAt,
      expiresAt: link.expiresAt,
      revokedAt: link.revokedAt
    };
  }
}
