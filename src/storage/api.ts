import {
  type CodeAccess,
  CodeAccessSchema,
  type FileEntry,
  FileEntrySchema,
  type FileList,
  FileListSchema,
  Routes,
  type ShareLink,
  ShareLinkListSchema,
  ShareLinkSchema,
  type Tier,
  TierListSchema,
  type Transfer,
  TransferSchema,
  type UploadResult,
  UploadResultSchema,
  type UploadSession,
  UploadSessionSchema
} from '@hpc-bridge/server/contract';
import type * as contract from '@hpc-bridge/server/contract';
import { z } from 'zod';
import type { Bridge, IBridgeClient } from '../tokens';

/** Bridge answers without a body of interest (delete, revoke, abort). */
const AnySchema = z.unknown();

/**
 * The storage routes of the bridge, typed by the contract. The drive, the
 * uploads and the Storage model talk to the bridge only through this.
 */
export interface IStorageApi {
  tiers(): Promise<Tier[]>;
  list(
    tier: string,
    path: string,
    cursor?: string | null,
    limit?: number
  ): Promise<FileList>;
  stat(tier: string, path: string): Promise<FileEntry>;
  /** The bytes of a file; the response's `Content-Type` says the mimetype. */
  content(
    tier: string,
    path: string,
    options?: { download?: boolean; signal?: AbortSignal }
  ): Promise<Response>;
  /** A streamed `PUT` of `body` (one request, atomic on the bridge). */
  put(
    tier: string,
    path: string,
    body: Blob,
    options?: { sha256?: string }
  ): Promise<UploadResult>;
  mkdir(tier: string, path: string): Promise<FileEntry>;
  remove(tier: string, path: string): Promise<void>;
  rename(tier: string, from: string, to: string): Promise<FileEntry>;
  copy(tier: string, request: contract.CopyRequest): Promise<Transfer>;
  transfer(id: string): Promise<Transfer>;
  startUpload(
    tier: string,
    request: contract.UploadStart
  ): Promise<UploadSession>;
  completeUpload(
    tier: string,
    uploadId: string,
    request: contract.UploadComplete
  ): Promise<FileEntry>;
  abortUpload(tier: string, uploadId: string): Promise<void>;
  links(tier?: string): Promise<ShareLink[]>;
  createLink(
    tier: string,
    request: contract.ShareLinkCreate
  ): Promise<ShareLink>;
  revokeLink(id: string): Promise<void>;
  codeAccess(
    tier: string,
    request: contract.CodeAccessRequest
  ): Promise<CodeAccess>;
  /** URL and headers for requests sent with `XMLHttpRequest` (progress). */
  prepare(
    route: string,
    query?: Record<string, string | undefined>
  ): Promise<Bridge.IPreparedRequest>;
}

/** `IStorageApi` over the bridge client. */
export class StorageApi implements IStorageApi {
  constructor(private readonly _client: IBridgeClient) {}

  async tiers(): Promise<Tier[]> {
    const list = await this._client.request(
      'GET',
      Routes.tiers,
      TierListSchema
    );
    return list.tiers;
  }

  list(
    tier: string,
    path: string,
    cursor?: string | null,
    limit?: number
  ): Promise<FileList> {
    return this._client.request('GET', Routes.tierFiles(tier), FileListSchema, {
      query: {
        path,
        cursor: cursor ?? undefined,
        limit: limit === undefined ? undefined : String(limit)
      }
    });
  }

  stat(tier: string, path: string): Promise<FileEntry> {
    return this._client.request('GET', Routes.tierStat(tier), FileEntrySchema, {
      query: { path }
    });
  }

  content(
    tier: string,
    path: string,
    options: { download?: boolean; signal?: AbortSignal } = {}
  ): Promise<Response> {
    return this._client.fetchRaw('GET', Routes.tierContent(tier), {
      query: { path, download: options.download ? 'true' : undefined },
      signal: options.signal
    });
  }

  async put(
    tier: string,
    path: string,
    body: Blob,
    options: { sha256?: string } = {}
  ): Promise<UploadResult> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream'
    };
    if (options.sha256) {
      headers['x-checksum-sha256'] = options.sha256;
    }
    const response = await this._client.fetchRaw(
      'PUT',
      Routes.tierContent(tier),
      { query: { path }, body, headers, accept: 'application/json' }
    );
    return UploadResultSchema.parse(await response.json());
  }

  mkdir(tier: string, path: string): Promise<FileEntry> {
    return this._client.request(
      'POST',
      Routes.tierMkdir(tier),
      FileEntrySchema,
      { body: { path } }
    );
  }

  async remove(tier: string, path: string): Promise<void> {
    await this._client.request('DELETE', Routes.tierFiles(tier), AnySchema, {
      query: { path }
    });
  }

  rename(tier: string, from: string, to: string): Promise<FileEntry> {
    return this._client.request(
      'POST',
      Routes.tierRename(tier),
      FileEntrySchema,
      { body: { from, to } }
    );
  }

  copy(tier: string, request: contract.CopyRequest): Promise<Transfer> {
    return this._post(Routes.tierCopy(tier), TransferSchema, request);
  }

  transfer(id: string): Promise<Transfer> {
    return this._client.request('GET', Routes.transfer(id), TransferSchema);
  }

  startUpload(
    tier: string,
    request: contract.UploadStart
  ): Promise<UploadSession> {
    return this._post(Routes.tierUploads(tier), UploadSessionSchema, request);
  }

  completeUpload(
    tier: string,
    uploadId: string,
    request: contract.UploadComplete
  ): Promise<FileEntry> {
    return this._post(
      Routes.tierUploadComplete(tier, uploadId),
      FileEntrySchema,
      request
    );
  }

  async abortUpload(tier: string, uploadId: string): Promise<void> {
    await this._client.request(
      'DELETE',
      Routes.tierUpload(tier, uploadId),
      AnySchema
    );
  }

  async links(tier?: string): Promise<ShareLink[]> {
    const list = await this._client.request(
      'GET',
      tier ? Routes.tierLinks(tier) : Routes.links,
      ShareLinkListSchema
    );
    return list.links;
  }

  createLink(
    tier: string,
    request: contract.ShareLinkCreate
  ): Promise<ShareLink> {
    return this._post(Routes.tierLinks(tier), ShareLinkSchema, request);
  }

  async revokeLink(id: string): Promise<void> {
    await this._client.request('DELETE', Routes.link(id), AnySchema);
  }

  codeAccess(
    tier: string,
    request: contract.CodeAccessRequest
  ): Promise<CodeAccess> {
    return this._post(Routes.tierCodeAccess(tier), CodeAccessSchema, request);
  }

  prepare(
    route: string,
    query?: Record<string, string | undefined>
  ): Promise<Bridge.IPreparedRequest> {
    return this._client.prepare(route, query);
  }

  private _post<T>(route: string, schema: z.ZodType<T>, body: unknown) {
    return this._client.request('POST', route, schema, { body });
  }
}
