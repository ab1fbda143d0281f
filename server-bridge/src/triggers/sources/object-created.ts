/**
 * `object.created`: a bounded listing scan of one folder of a tier (one level: the files
 * directly in it, at most `pageSize` entries per scan), as the owner through the storage
 * service, so the owner's access and the sensitive-tier audit apply. The cursor keeps
 * each file's version (ETag where the listing gives one, else size and modification
 * time): a new file, or a new version of one, fires once. A pass over a big folder takes
 * several scans, each going on from the listing's own continuation token; a file gone
 * by the end of a pass is forgotten, so one that comes back fires again. The first pass
 * is the baseline: what is there when the trigger is made does not fire.
 */
import { z } from 'zod';
import type { IAuthUser } from '../../auth/decide';
import { parseTierUri, type TriggerSource } from '../../contract';
import { DomainError } from '../../domain-error';
import type { IStorageEntry, IStoragePage } from '../../ports/storage';
import type { StorageService } from '../../storage/service';
import { versionOf } from '../../storage/staging';
import type {
  IFoundEvent,
  IScan,
  IScanContext,
  ITriggerSource
} from './source';

type ObjectSource = Extract<TriggerSource, { kind: 'object.created' }>;

const CursorSchema = z.object({
  /** Tier path → version key of every file seen. */
  seen: z.record(z.string(), z.string()),
  /** Files listed so far in the pass under way. */
  pass: z.array(z.string()),
  /** The listing's continuation token of the pass under way; null: start a pass. */
  page: z.string().nullable(),
  /** The pass under way is the first one: it records, it does not fire. */
  baseline: z.boolean()
});
type Cursor = z.infer<typeof CursorSchema>;

/** `*.csv`, `data-??.json` → a regular expression over a whole file name. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map(c =>
      c === '*'
        ? '.*'
        : c === '?'
          ? '.'
          : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    )
    .join('');
  return new RegExp(`^${body}$`);
}

/** What tells two versions of a file apart. */
function versionKeyOf(entry: IStorageEntry): string {
  return (
    entry.etag ??
    `${entry.size ?? ''}/${entry.lastModified?.toISOString() ?? ''}`
  );
}

export class ObjectCreatedSource implements ITriggerSource<ObjectSource> {
  readonly intervalMs: number;

  constructor(
    private readonly storage: StorageService,
    options: { intervalMs?: number; pageSize?: number } = {}
  ) {
    this.intervalMs = options.intervalMs ?? 30_000;
    this.pageSize = options.pageSize ?? 1000;
  }

  private readonly pageSize: number;

  /** Lists the first page as the baseline: 404 when the owner cannot read the folder. */
  async baseline(
    owner: IAuthUser,
    source: ObjectSource,
    now: Date
  ): Promise<Cursor> {
    const { tier, path } = parseTierUri(source.prefix);
    const folder = await this.storage.files.stat(owner, tier, path);
    if (folder.type !== 'directory') {
      throw new DomainError(
        'bad_request',
        `${source.prefix} is a file, not a folder`
      );
    }
    const first: Cursor = { seen: {}, pass: [], page: null, baseline: true };
    const scan = await this.scan({
      source,
      owner,
      cursor: first,
      now
    });
    return CursorSchema.parse(scan.cursor);
  }

  async scan(ctx: IScanContext<ObjectSource>): Promise<IScan> {
    const parsed = CursorSchema.safeParse(ctx.cursor);
    const cursor: Cursor = parsed.success
      ? parsed.data
      : { seen: {}, pass: [], page: null, baseline: true };
    const { tier, path } = parseTierUri(ctx.source.prefix);
    const match =
      ctx.source.match === undefined ? null : globToRegExp(ctx.source.match);
    const listed = await this.list(ctx.owner, tier, path, cursor.page);
    const events: IFoundEvent[] = [];
    const seen = { ...cursor.seen };
    const pass = [...cursor.pass];
    for (const { entry, tierPath } of listed.files) {
      if (match !== null && !match.test(entry.name)) {
        continue;
      }
      const version = versionKeyOf(entry);
      pass.push(tierPath);
      if (seen[tierPath] === version) {
        continue;
      }
      seen[tierPath] = version;
      if (!cursor.baseline) {
        const uri = `${tier}:${tierPath}`;
        events.push({
          key: `${uri}@${version}`,
          event: { kind: 'object.created', uri, version: versionOf(entry) }
        });
      }
    }
    if (listed.next !== null) {
      return {
        events,
        cursor: { seen, pass, page: listed.next, baseline: cursor.baseline },
        truncated: true
      };
    }
    const present = new Set(pass);
    const kept = Object.fromEntries(
      Object.entries(seen).filter(([p]) => present.has(p))
    );
    return {
      events,
      cursor: { seen: kept, pass: [], page: null, baseline: false },
      truncated: false
    };
  }

  /**
   * One page of the folder's files with their tier paths; a continuation token that no
   * longer holds starts the pass again. A folder that answers 404 (gone, or the owner
   * lost access) fails the scan and keeps the cursor, so nothing fires twice when it
   * comes back.
   */
  private async list(
    owner: IAuthUser,
    tierName: string,
    path: string,
    token: string | null
  ): Promise<{
    files: { entry: IStorageEntry; tierPath: string }[];
    next: string | null;
  }> {
    const core = this.storage.core;
    try {
      return await core.run(owner, tierName, 'list', path, async tier => {
        const located = core.locate(owner, tier, path, 'read');
        const page: IStoragePage = await located.port.list(
          located.rest,
          this.pageSize,
          token ?? undefined
        );
        const base = located.rest === '' ? '' : `${located.rest}/`;
        return {
          files: page.entries
            .filter(e => e.type === 'file')
            .map(entry => ({
              entry,
              tierPath: core.tierPath(located, `${base}${entry.name}`)
            })),
          next: page.nextCursor
        };
      });
    } catch (e) {
      if (
        token !== null &&
        e instanceof DomainError &&
        e.code === 'bad_request'
      ) {
        return this.list(owner, tierName, path, null);
      }
      throw e;
    }
  }
}
