import {
  type CodeAccess,
  type FileEntry,
  FileEntrySchema,
  type FileList,
  type ShareLink,
  type Tier,
  TierSchema,
  type Transfer,
  TransferSchema,
  type UploadResult,
  type UploadSession
} from '@hpc-bridge/server/contract';
import type * as contract from '@hpc-bridge/server/contract';
import type { IStorageApi } from '../storage/api';
import type { Bridge } from '../tokens';

/** A tier as the bridge describes it. */
export function tier(overrides: Partial<Tier> = {}): Tier {
  return TierSchema.parse({
    name: 'scratch',
    title: 'Scratch',
    class: 'scratch',
    adapter: 'sftp',
    access: 'write',
    groups: null,
    usage: {
      '': { bytes: 1024, quotaBytes: 4096, measuredAt: null }
    },
    retention: 'Files untouched for 30 days are deleted',
    links: false,
    audited: false,
    directUpload: false,
    codeAccess: true,
    ...overrides
  });
}

export function entry(
  path: string,
  overrides: Partial<FileEntry> = {}
): FileEntry {
  return FileEntrySchema.parse({
    name: path.split('/').pop(),
    path,
    type: 'file',
    size: 3,
    lastModified: '2026-11-25T10:00:00.000Z',
    writable: true,
    ...overrides
  });
}

export function transfer(overrides: Partial<Transfer> = {}): Transfer {
  return TransferSchema.parse({
    id: 'x1',
    kind: 'copy',
    from: { tier: 'scratch', path: 'a.csv' },
    to: { tier: 'archive', path: 'a.csv' },
    state: 'running',
    bytesDone: 0,
    bytesTotal: 10,
    filesDone: 0,
    filesTotal: 1,
    startedAt: '2026-11-25T10:00:00.000Z',
    finishedAt: null,
    ...overrides
  });
}

/**
 * An in-memory tier store behind `IStorageApi`: files by `tier/path`, folders
 * implied by their files or made with mkdir. Records the calls.
 */
export class FakeStorageApi implements IStorageApi {
  tierList: Tier[] = [tier()];
  files = new Map<string, Uint8Array>();
  folders = new Set<string>();
  calls: string[] = [];
  puts: Array<{ tier: string; path: string; bytes: Uint8Array }> = [];
  transfers: Transfer[] = [];
  linkList: ShareLink[] = [];
  failWith: Error | null = null;
  pageSize: number | null = null;

  async tiers(): Promise<Tier[]> {
    this.calls.push('tiers');
    this._fail();
    return this.tierList;
  }

  async list(
    tierName: string,
    path: string,
    cursor?: string | null,
    limit = 1000
  ): Promise<FileList> {
    this.calls.push(`list ${tierName}:${path} ${cursor ?? '-'}`);
    this._fail();
    const all = this.children(tierName, path);
    const start = cursor ? Number(cursor) : 0;
    const size = this.pageSize ?? limit;
    const end = start + size;
    return {
      path,
      entries: all.slice(start, end),
      nextCursor: end < all.length ? String(end) : null
    };
  }

  async stat(tierName: string, path: string): Promise<FileEntry> {
    this.calls.push(`stat ${tierName}:${path}`);
    this._fail();
    const key = `${tierName}/${path}`;
    const bytes = this.files.get(key);
    if (bytes) {
      return entry(path, { size: bytes.byteLength });
    }
    if (this.folders.has(key) || this.children(tierName, path).length > 0) {
      return entry(path, { type: 'directory', size: null });
    }
    throw new Error(`${path} does not exist in ${tierName}`);
  }

  async content(tierName: string, path: string): Promise<Response> {
    this.calls.push(`content ${tierName}:${path}`);
    this._fail();
    const bytes = this.files.get(`${tierName}/${path}`);
    if (!bytes) {
      throw new Error(`${path} does not exist in ${tierName}`);
    }
    return new Response(new Blob([new Uint8Array(bytes)]));
  }

  async put(tierName: string, path: string, body: Blob): Promise<UploadResult> {
    this.calls.push(`put ${tierName}:${path}`);
    this._fail();
    const bytes = new Uint8Array(await body.arrayBuffer());
    this.puts.push({ tier: tierName, path, bytes });
    this.files.set(`${tierName}/${path}`, bytes);
    return {
      entry: entry(path, { size: bytes.byteLength }),
      sha256: '0'.repeat(64)
    };
  }

  async mkdir(tierName: string, path: string): Promise<FileEntry> {
    this.calls.push(`mkdir ${tierName}:${path}`);
    this._fail();
    this.folders.add(`${tierName}/${path}`);
    return entry(path, { type: 'directory', size: null });
  }

  async remove(tierName: string, path: string): Promise<void> {
    this.calls.push(`remove ${tierName}:${path}`);
    this._fail();
    this.files.delete(`${tierName}/${path}`);
  }

  async rename(tierName: string, from: string, to: string): Promise<FileEntry> {
    this.calls.push(`rename ${tierName}:${from} ${to}`);
    this._fail();
    const bytes = this.files.get(`${tierName}/${from}`);
    if (bytes) {
      this.files.delete(`${tierName}/${from}`);
      this.files.set(`${tierName}/${to}`, bytes);
    }
    return entry(to);
  }

  async copy(
    tierName: string,
    request: contract.CopyRequest
  ): Promise<Transfer> {
    this.calls.push(
      `copy ${tierName}:${request.from} ${request.toTier ?? tierName}:${request.to}`
    );
    this._fail();
    const bytes = this.files.get(`${tierName}/${request.from}`);
    if (bytes) {
      this.files.set(`${request.toTier ?? tierName}/${request.to}`, bytes);
    }
    const first = this.transfers.shift();
    return (
      first ??
      transfer({
        state: 'completed',
        from: { tier: tierName, path: request.from },
        to: { tier: request.toTier ?? tierName, path: request.to }
      })
    );
  }

  async transfer(id: string): Promise<Transfer> {
    this.calls.push(`transfer ${id}`);
    const next = this.transfers.shift();
    if (!next) {
      throw new Error('no more transfer states');
    }
    return next;
  }

  sessions: UploadSession[] = [];
  completed: Array<{ uploadId: string; request: contract.UploadComplete }> = [];

  async startUpload(
    tierName: string,
    request: contract.UploadStart
  ): Promise<UploadSession> {
    this.calls.push(`startUpload ${tierName}:${request.path} ${request.size}`);
    this._fail();
    const session = this.sessions.shift();
    if (!session) {
      throw new Error('no session prepared');
    }
    return session;
  }

  async completeUpload(
    tierName: string,
    uploadId: string,
    request: contract.UploadComplete
  ): Promise<FileEntry> {
    this.calls.push(`completeUpload ${tierName} ${uploadId}`);
    this.completed.push({ uploadId, request });
    return entry('big.bin');
  }

  async abortUpload(tierName: string, uploadId: string): Promise<void> {
    this.calls.push(`abortUpload ${tierName} ${uploadId}`);
  }

  async links(tierName?: string): Promise<ShareLink[]> {
    this.calls.push(`links ${tierName ?? '*'}`);
    return this.linkList.filter(link => !tierName || link.tier === tierName);
  }

  async createLink(
    tierName: string,
    request: contract.ShareLinkCreate
  ): Promise<ShareLink> {
    this.calls.push(`createLink ${tierName}:${request.path}`);
    this._fail();
    return {
      id: 'abcdefghijklmnop',
      tier: tierName,
      path: request.path,
      url: 'http://127.0.0.1:8000/services/hpc-bridge/api/v1/public/links/abcdefghijklmnop',
      createdAt: '2026-11-25T10:00:00.000Z',
      expiresAt: '2026-12-02T10:00:00.000Z',
      revokedAt: null
    };
  }

  async revokeLink(id: string): Promise<void> {
    this.calls.push(`revokeLink ${id}`);
  }

  /** What `codeAccess` answers as the URL: `null` as an sftp tier does. */
  presignedUrl: string | null = 'http://s3/x';

  async codeAccess(
    tierName: string,
    request: contract.CodeAccessRequest
  ): Promise<CodeAccess> {
    this.calls.push(
      `codeAccess ${tierName}:${request.path}${request.download ? ' download' : ''}`
    );
    this._fail();
    return {
      tier: tierName,
      path: request.path,
      url: this.presignedUrl,
      clusterPath: null,
      expiresAt: '2026-11-25T11:00:00.000Z',
      snippets: { curl: 'curl http://s3/x' }
    };
  }

  async prepare(
    route: string,
    query: Record<string, string | undefined> = {}
  ): Promise<Bridge.IPreparedRequest> {
    const search = new URLSearchParams(
      Object.entries(query).filter(
        (pair): pair is [string, string] => pair[1] !== undefined
      )
    ).toString();
    return {
      url: `http://bridge${route}${search ? `?${search}` : ''}`,
      headers: { Authorization: 'token secret', Accept: 'application/json' },
      error: (status, text) => new Error(`HTTP ${status}: ${text}`)
    };
  }

  /** Entries directly under `path` of a tier, folders first. */
  children(tierName: string, path: string): FileEntry[] {
    const prefix = `${tierName}/${path ? `${path}/` : ''}`;
    const folders = new Set<string>();
    const files: FileEntry[] = [];
    const keys = [...this.files.keys(), ...this.folders];
    for (const key of keys) {
      if (!key.startsWith(prefix)) {
        continue;
      }
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      const inner = `${path ? `${path}/` : ''}`;
      if (slash === -1 && this.files.has(key)) {
        files.push(
          entry(inner + rest, { size: this.files.get(key)!.byteLength })
        );
      } else {
        folders.add(slash === -1 ? rest : rest.slice(0, slash));
      }
    }
    return [
      ...[...folders].sort().map(name =>
        entry(`${path ? `${path}/` : ''}${name}`, {
          type: 'directory',
          size: null
        })
      ),
      ...files.sort((a, b) => a.name.localeCompare(b.name))
    ];
  }

  private _fail(): void {
    if (this.failWith) {
      throw this.failWith;
    }
  }
}
