import type {
  FileEntry,
  FileList,
  Tier,
  Transfer
} from '@hpc-bridge/server/contract';
import type { Contents, ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import type { IStorageApi } from './api';
import {
  baseName,
  extension,
  isTextMimetype,
  joinPath,
  mimetypeFor,
  normalizePath,
  uniqueName
} from './paths';
import { DriveContent } from './content';

/**
 * A JupyterLab drive over one storage tier of the HPC Bridge: registered with
 * `ContentsManager.addDrive`, its files are `TIER:path/in/tier` in the file
 * browser and open like local files.
 *
 * Chunked saves (the file browser uploads files above 1 MB in 1 MB chunks,
 * numbered 1…n, the last one -1) are kept as blobs until the last chunk, then
 * sent as one streamed PUT: nothing is visible on the tier before the upload
 * is complete, and a failed upload leaves nothing behind.
 */
export class TierDrive implements Contents.IDrive {
  constructor(options: TierDrive.IOptions) {
    this._api = options.api;
    const { tier } = options;
    this._name = typeof tier === 'string' ? tier : tier.name;
    this._tier = typeof tier === 'string' ? null : tier;
    this.serverSettings = options.serverSettings;
    this._pageSize = options.pageSize ?? TierDrive.PAGE_SIZE;
    this._pollMs = options.transferPollMs ?? 500;
  }

  /** The tier name, used as the drive name (`scratch:`). */
  get name(): string {
    return this._name;
  }

  /** The tier as the bridge last described it; `null` until it did. */
  get tier(): Tier | null {
    return this._tier;
  }

  set tier(tier: Tier) {
    this._tier = tier;
  }

  readonly serverSettings: ServerConnection.ISettings;

  get fileChanged(): ISignal<Contents.IDrive, Contents.IChangedArgs> {
    return this._fileChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._chunks.clear();
    Signal.clearData(this);
  }

  async get(
    localPath: string,
    options: Contents.IFetchOptions = {}
  ): Promise<Contents.IModel> {
    const path = normalizePath(localPath);
    const entry = path === '' ? null : await this._api.stat(this.name, path);
    if (entry === null || entry.type === 'directory') {
      const model = this._directoryModel(path, entry);
      if (options.content === false) {
        return model;
      }
      return { ...model, content: await this._listAll(path) };
    }
    const model = this._fileModel(entry, options.type);
    if (!options.content) {
      return model;
    }
    return this._withContent(model, options.format ?? null);
  }

  async getDownloadUrl(localPath: string): Promise<string> {
    const blob = await this._download(localPath);
    const url = URL.createObjectURL(blob);
    // The file browser clicks the link right away; the blob is not needed after.
    setTimeout(
      () => URL.revokeObjectURL(url),
      TierDrive.DOWNLOAD_URL_LIFETIME_MS
    );
    return url;
  }

  /**
   * Download a file to the user's computer under its own name (a blob URL
   * from `getDownloadUrl` would be saved under a random name). Where the tier
   * gives presigned URLs, the browser saves the file straight from S3 (the
   * store names it): nothing is held in the page, whatever its size.
   */
  async download(localPath: string): Promise<void> {
    const path = normalizePath(localPath);
    const direct = await this._directDownloadUrl(path);
    const url = direct ?? URL.createObjectURL(await this._download(path));
    const link = document.createElement('a');
    link.href = url;
    link.download = baseName(path);
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    if (direct === null) {
      setTimeout(
        () => URL.revokeObjectURL(url),
        TierDrive.DOWNLOAD_URL_LIFETIME_MS
      );
    }
  }

  async newUntitled(
    options: Contents.ICreateOptions = {}
  ): Promise<Contents.IModel> {
    const dir = normalizePath(options.path ?? '');
    const type = options.type ?? 'file';
    const taken = await this._names(dir);
    let model: Contents.IModel;
    if (type === 'directory') {
      const name = uniqueName(taken, 'Untitled Folder', '', ' ');
      const entry = await this._api.mkdir(this.name, joinPath(dir, name));
      model = this._directoryModel(entry.path, entry);
    } else if (type === 'notebook') {
      const name = uniqueName(taken, 'Untitled', '.ipynb');
      model = await this._write(
        joinPath(dir, name),
        DriveContent.emptyNotebook(),
        {
          type: 'notebook',
          format: 'json'
        }
      );
    } else {
      const ext = options.ext
        ? options.ext.startsWith('.')
          ? options.ext
          : `.${options.ext}`
        : '.txt';
      const name = uniqueName(taken, 'untitled', ext);
      model = await this._write(joinPath(dir, name), '', {
        type: 'file',
        format: 'text'
      });
    }
    this._fileChanged.emit({ type: 'new', oldValue: null, newValue: model });
    return model;
  }

  async delete(localPath: string): Promise<void> {
    const path = normalizePath(localPath);
    await this._api.remove(this.name, path);
    this._fileChanged.emit({
      type: 'delete',
      oldValue: { path },
      newValue: null
    });
  }

  async rename(
    oldLocalPath: string,
    newLocalPath: string
  ): Promise<Contents.IModel> {
    const from = normalizePath(oldLocalPath);
    const to = normalizePath(newLocalPath);
    const entry = await this._api.rename(this.name, from, to);
    const model = this._entryModel(entry);
    this._fileChanged.emit({
      type: 'rename',
      oldValue: { path: from },
      newValue: model
    });
    return model;
  }

  async save(
    localPath: string,
    options: Partial<Contents.IModel> = {}
  ): Promise<Contents.IModel> {
    const path = normalizePath(localPath);
    const chunk = options.chunk;
    const body = DriveContent.toBlob(options);
    if (chunk === undefined) {
      const model = await this._write(path, body, options);
      this._fileChanged.emit({ type: 'save', oldValue: null, newValue: model });
      return model;
    }
    // Chunk 1 starts an upload (and drops a previous one that never ended).
    const parts = chunk === 1 ? [] : (this._chunks.get(path) ?? null);
    if (parts === null) {
      throw new Error(
        `Upload of ${path} to ${this.name}: chunk ${chunk} arrived without the chunks before it.`
      );
    }
    parts.push(body);
    if (chunk !== -1) {
      this._chunks.set(path, parts);
      return {
        ...this._pendingModel(path, options),
        size: parts.reduce((total, part) => total + part.size, 0)
      };
    }
    this._chunks.delete(path);
    const model = await this._write(path, new Blob(parts), options);
    this._fileChanged.emit({ type: 'save', oldValue: null, newValue: model });
    return model;
  }

  async copy(localPath: string, toLocalDir: string): Promise<Contents.IModel> {
    const from = normalizePath(localPath);
    const dir = normalizePath(toLocalDir);
    const name = baseName(from);
    const ext = extension(name);
    const stem = ext ? name.slice(0, -ext.length) : name;
    const taken = await this._names(dir);
    const target = joinPath(
      dir,
      taken.has(name) ? uniqueName(taken, `${stem}-Copy`, ext) : name
    );
    const transfer = await this.waitForTransfer(
      await this._api.copy(this.name, { from, to: target })
    );
    const entry = await this._api.stat(this.name, transfer.to.path);
    const model = this._entryModel(entry);
    this._fileChanged.emit({ type: 'new', oldValue: null, newValue: model });
    return model;
  }

  /**
   * Poll a transfer until it ends; rejects with its error when it failed.
   * `onProgress` sees every state on the way.
   */
  async waitForTransfer(
    transfer: Transfer,
    onProgress?: (transfer: Transfer) => void
  ): Promise<Transfer> {
    let current = transfer;
    onProgress?.(current);
    while (current.state === 'running') {
      await new Promise(resolve => setTimeout(resolve, this._pollMs));
      current = await this._api.transfer(current.id);
      onProgress?.(current);
    }
    if (current.state === 'failed') {
      throw new Error(
        current.error ??
          `The copy of ${current.from.tier}:${current.from.path} failed.`
      );
    }
    return current;
  }

  async createCheckpoint(): Promise<Contents.ICheckpointModel> {
    // Tiers keep no checkpoints; the document context only needs an answer.
    return { id: 'none', last_modified: new Date().toISOString() };
  }

  async listCheckpoints(): Promise<Contents.ICheckpointModel[]> {
    return [];
  }

  async restoreCheckpoint(): Promise<void> {
    throw new Error(`The ${this.name} tier keeps no checkpoints.`);
  }

  async deleteCheckpoint(): Promise<void> {
    return;
  }

  private async _listAll(path: string): Promise<Contents.IModel[]> {
    const models: Contents.IModel[] = [];
    let cursor: string | null = null;
    do {
      const page: FileList = await this._api.list(
        this.name,
        path,
        cursor,
        this._pageSize
      );
      for (const entry of page.entries) {
        models.push(this._entryModel(entry));
      }
      cursor = page.nextCursor;
    } while (cursor !== null && !this._isDisposed);
    return models;
  }

  private async _names(dir: string): Promise<Set<string>> {
    return new Set((await this._listAll(dir)).map(model => model.name));
  }

  /** A presigned attachment URL, or `null` where the tier reads through the bridge. */
  private async _directDownloadUrl(path: string): Promise<string | null> {
    if (this._tier === null || !this._tier.codeAccess) {
      return null;
    }
    const access = await this._api.codeAccess(this.name, {
      path,
      download: true,
      expiresInSeconds: TierDrive.DIRECT_DOWNLOAD_SECONDS
    });
    return access.url;
  }

  private async _download(localPath: string): Promise<Blob> {
    const response = await this._api.content(
      this.name,
      normalizePath(localPath),
      { download: true }
    );
    return response.blob();
  }

  private async _withContent(
    model: Contents.IModel,
    format: Contents.FileFormat
  ): Promise<Contents.IModel> {
    const response = await this._api.content(this.name, model.path);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (model.type === 'notebook' || format === 'json') {
      const text = new TextDecoder().decode(bytes);
      let content: unknown;
      try {
        content = JSON.parse(text);
      } catch {
        throw new Error(
          `${this.name}:${model.path} is not valid JSON, so it cannot be opened as a notebook.`
        );
      }
      return { ...model, content, format: 'json', size: bytes.byteLength };
    }
    const wantText =
      format === 'text' || (format === null && isTextMimetype(model.mimetype));
    if (wantText) {
      try {
        const content = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        return { ...model, content, format: 'text', size: bytes.byteLength };
      } catch (error) {
        if (format === 'text') {
          throw new Error(
            `${this.name}:${model.path} is not UTF-8 text; open it with another viewer or download it.`
          );
        }
      }
    }
    return {
      ...model,
      content: DriveContent.toBase64(bytes),
      format: 'base64',
      size: bytes.byteLength
    };
  }

  private async _write(
    path: string,
    body: Blob | string | unknown,
    options: Partial<Contents.IModel>
  ): Promise<Contents.IModel> {
    const blob =
      body instanceof Blob
        ? body
        : DriveContent.toBlob({
            ...options,
            content: body
          } as Partial<Contents.IModel>);
    const result = await this._api.put(this.name, path, blob);
    return this._entryModel(result.entry, options.type);
  }

  private _entryModel(
    entry: FileEntry,
    type?: Contents.ContentType
  ): Contents.IModel {
    return entry.type === 'directory'
      ? this._directoryModel(entry.path, entry)
      : this._fileModel(entry, type);
  }

  private _directoryModel(
    path: string,
    entry: FileEntry | null
  ): Contents.IModel {
    const time = entry?.lastModified ?? TierDrive.NO_TIME;
    return {
      name: entry?.name ?? baseName(path),
      path,
      type: 'directory',
      writable: entry ? entry.writable : this._rootWritable(),
      created: time,
      last_modified: time,
      mimetype: '',
      content: null,
      format: null
    };
  }

  private _fileModel(
    entry: FileEntry,
    type?: Contents.ContentType
  ): Contents.IModel {
    const time = entry.lastModified ?? TierDrive.NO_TIME;
    const isNotebook =
      type === 'notebook' ||
      (type === undefined && extension(entry.name) === '.ipynb');
    return {
      name: entry.name,
      path: entry.path,
      type: isNotebook ? 'notebook' : 'file',
      writable: entry.writable,
      created: time,
      last_modified: time,
      mimetype: mimetypeFor(entry.name),
      content: null,
      format: null,
      size: entry.size ?? undefined
    };
  }

  private _pendingModel(
    path: string,
    options: Partial<Contents.IModel>
  ): Contents.IModel {
    const now = new Date().toISOString();
    return {
      name: baseName(path),
      path,
      type: options.type ?? 'file',
      writable: true,
      created: now,
      last_modified: now,
      mimetype: mimetypeFor(path),
      content: null,
      format: null,
      chunk: options.chunk
    };
  }

  /**
   * A tier root is writable unless the tier is read-only or lists groups;
   * read-only until the bridge described the tier.
   */
  private _rootWritable(): boolean {
    return this._tier?.access === 'write' && this._tier.groups === null;
  }

  private readonly _api: IStorageApi;
  private readonly _name: string;
  private _tier: Tier | null;
  private readonly _pageSize: number;
  private readonly _pollMs: number;
  private _isDisposed = false;
  private readonly _chunks = new Map<string, Blob[]>();
  private readonly _fileChanged = new Signal<
    Contents.IDrive,
    Contents.IChangedArgs
  >(this);
}

export namespace TierDrive {
  export interface IOptions {
    api: IStorageApi;
    /**
     * The tier, or only its name for a drive registered before the bridge
     * described it (documents of mounted tiers restored at start).
     */
    tier: Tier | string;
    serverSettings: ServerConnection.ISettings;
    /** Entries asked per page of a folder listing. */
    pageSize?: number;
    /** How often a running copy is polled. */
    transferPollMs?: number;
  }

  export const PAGE_SIZE = 1000;
  export const DOWNLOAD_URL_LIFETIME_MS = 60_000;
  /** How long a presigned download URL is valid (the bridge's minimum). */
  export const DIRECT_DOWNLOAD_SECONDS = 60;
  /**
   * The time of an entry the tier gives none for (S3 folders are key
   * prefixes): empty, so the file browser shows no time rather than 1970's.
   */
  export const NO_TIME = '';
}
