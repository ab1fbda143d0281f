import type {
  CodeAccess,
  FileEntry,
  ShareLink,
  Tier,
  Transfer
} from '@hpc-bridge/server/contract';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { IStorageApi } from './api';
import { joinPath } from './paths';
import { Upload } from './upload';

/**
 * The Storage section's state: the tiers the user may see (with usage and
 * quota), which are mounted, uploads and copies in progress, and share links.
 * Mounting itself (drive + file browser) is done by whoever listens to
 * `mountedChanged`.
 */
export class StorageModel implements IDisposable {
  constructor(options: StorageModel.IOptions) {
    this._api = options.api;
    this._pollMs = options.transferPollMs ?? 1000;
    this._upload = options.upload ?? Upload.upload;
  }

  get tiers(): readonly Tier[] {
    return this._tiers;
  }

  tier(name: string): Tier | null {
    return this._tiers.find(tier => tier.name === name) ?? null;
  }

  /** The error of the last refresh, or `null`. */
  get error(): Error | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  get mounted(): ReadonlySet<string> {
    return this._mounted;
  }

  /** Live share links by tier (public tiers only). */
  links(tier: string): readonly ShareLink[] {
    return this._links.get(tier) ?? [];
  }

  get transfers(): readonly StorageModel.ITransfer[] {
    return [...this._transfers.values()];
  }

  /** Emitted on every change the section shows. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with the new mounted set when a tier is mounted or unmounted. */
  get mountedChanged(): ISignal<this, ReadonlySet<string>> {
    return this._mountedChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const controller of this._controllers.values()) {
      controller.abort();
    }
    Signal.clearData(this);
  }

  /** Fetch the tiers and the links of the public ones. */
  async refresh(): Promise<void> {
    try {
      const tiers = await this._api.tiers();
      const links = new Map<string, ShareLink[]>();
      await Promise.all(
        tiers
          .filter(tier => tier.links)
          .map(async tier =>
            links.set(
              tier.name,
              (await this._api.links(tier.name)).filter(link =>
                StorageModel.isLive(link)
              )
            )
          )
      );
      this._tiers = tiers;
      this._links = links;
      this._error = null;
    } catch (error) {
      this._error = error instanceof Error ? error : new Error(String(error));
    }
    this._loading = false;
    this._emit();
  }

  /** Restore the mounted set (from the settings), without re-emitting it. */
  restoreMounted(names: Iterable<string>): void {
    this._mounted = new Set(names);
    this._emit();
  }

  mount(name: string): void {
    if (!this._mounted.has(name)) {
      this._mounted = new Set([...this._mounted, name]);
      this._mountedChanged.emit(this._mounted);
      this._emit();
    }
  }

  unmount(name: string): void {
    if (this._mounted.has(name)) {
      const next = new Set(this._mounted);
      next.delete(name);
      this._mounted = next;
      this._mountedChanged.emit(this._mounted);
      this._emit();
    }
  }

  /**
   * Upload `file` into folder `dir` of `tier`, with progress in `transfers`.
   * Resolves with the stored entry; rejects with the bridge's sentence.
   */
  async upload(tierName: string, file: File, dir = ''): Promise<FileEntry> {
    const tier = this._requireTier(tierName);
    const path = joinPath(dir, file.name);
    const transfer = this._start({
      kind: 'upload',
      label: file.name,
      origin: tier.name,
      tier: tier.name,
      path,
      total: file.size
    });
    const controller = new AbortController();
    this._controllers.set(transfer.id, controller);
    try {
      const result = await this._upload({
        api: this._api,
        tier,
        path,
        file,
        signal: controller.signal,
        onProgress: progress =>
          this._update(transfer.id, {
            loaded: progress.loaded,
            total: progress.total,
            phase: progress.phase,
            mode: progress.mode
          })
      });
      this._update(transfer.id, { state: 'completed', loaded: file.size });
      void this.refresh();
      return result;
    } catch (error) {
      this._fail(transfer.id, error);
    } finally {
      this._controllers.delete(transfer.id);
    }
  }

  /** Cancel an upload in progress. */
  cancel(id: string): void {
    this._controllers.get(id)?.abort();
  }

  /** Forget an ended transfer (the section's "dismiss"). */
  dismiss(id: string): void {
    const transfer = this._transfers.get(id);
    if (transfer && transfer.state !== 'running') {
      this._transfers.delete(id);
      this._emit();
    }
  }

  /** A server-side copy, e.g. scratch → archive, followed until it ends. */
  async copy(
    from: { tier: string; path: string },
    to: { tier: string; path: string }
  ): Promise<Transfer> {
    const local = this._start({
      kind: 'copy',
      label: `${from.tier}:${from.path} → ${to.tier}:${to.path}`,
      origin: from.tier,
      tier: to.tier,
      path: to.path,
      total: 0
    });
    try {
      let transfer = await this._api.copy(from.tier, {
        from: from.path,
        toTier: to.tier,
        to: to.path
      });
      const follow = (current: Transfer) =>
        this._update(local.id, {
          loaded: current.bytesDone,
          total: current.bytesTotal ?? 0,
          phase: 'upload'
        });
      follow(transfer);
      while (transfer.state === 'running' && !this._isDisposed) {
        await new Promise(resolve => setTimeout(resolve, this._pollMs));
        transfer = await this._api.transfer(transfer.id);
        follow(transfer);
      }
      if (transfer.state === 'failed') {
        throw new Error(transfer.error ?? `The copy to ${to.tier} failed.`);
      }
      this._update(local.id, { state: 'completed' });
      void this.refresh();
      return transfer;
    } catch (error) {
      this._fail(local.id, error);
    }
  }

  async createLink(
    tier: string,
    path: string,
    expiresInSeconds?: number
  ): Promise<ShareLink> {
    const link = await this._api.createLink(tier, { path, expiresInSeconds });
    this._links.set(tier, [link, ...this.links(tier)]);
    this._emit();
    return link;
  }

  async revokeLink(link: ShareLink): Promise<void> {
    await this._api.revokeLink(link.id);
    this._links.set(
      link.tier,
      this.links(link.tier).filter(other => other.id !== link.id)
    );
    this._emit();
  }

  codeAccess(tier: string, path: string): Promise<CodeAccess> {
    return this._api.codeAccess(tier, { path });
  }

  private _requireTier(name: string): Tier {
    const tier = this.tier(name);
    if (!tier) {
      throw new Error(`There is no storage tier "${name}" for you.`);
    }
    return tier;
  }

  private _start(
    init: Pick<
      StorageModel.ITransfer,
      'kind' | 'label' | 'origin' | 'tier' | 'path' | 'total'
    >
  ): StorageModel.ITransfer {
    const transfer: StorageModel.ITransfer = {
      ...init,
      id: `t${++this._nextId}`,
      loaded: 0,
      phase: 'upload',
      mode: null,
      state: 'running',
      error: null
    };
    this._transfers.set(transfer.id, transfer);
    this._emit();
    return transfer;
  }

  private _update(id: string, patch: Partial<StorageModel.ITransfer>): void {
    const transfer = this._transfers.get(id);
    if (transfer && !this._isDisposed) {
      this._transfers.set(id, { ...transfer, ...patch });
      this._emit();
    }
  }

  /** Marks a transfer failed with the error's sentence, and rethrows it. */
  private _fail(id: string, error: unknown): never {
    this._update(id, {
      state: 'failed',
      error: error instanceof Error ? error.message : String(error)
    });
    throw error;
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private readonly _api: IStorageApi;
  private readonly _pollMs: number;
  private readonly _upload: (options: Upload.IOptions) => Promise<FileEntry>;
  private _tiers: Tier[] = [];
  private _links = new Map<string, ShareLink[]>();
  private _error: Error | null = null;
  private _loading = true;
  private _mounted: ReadonlySet<string> = new Set();
  private readonly _transfers = new Map<string, StorageModel.ITransfer>();
  private readonly _controllers = new Map<string, AbortController>();
  private _nextId = 0;
  private _isDisposed = false;
  private readonly _changed = new Signal<this, void>(this);
  private readonly _mountedChanged = new Signal<this, ReadonlySet<string>>(
    this
  );
}

export namespace StorageModel {
  export interface IOptions {
    api: IStorageApi;
    /** How often a running copy is polled. */
    transferPollMs?: number;
    /** Replaces `Upload.upload` (tests). */
    upload?: (options: Upload.IOptions) => Promise<FileEntry>;
  }

  /** An upload or a copy, as the section shows it. */
  export interface ITransfer {
    id: string;
    kind: 'upload' | 'copy';
    label: string;
    /** The tier whose action started it (a copy's source), where it is shown. */
    origin: string;
    /** The tier written to. */
    tier: string;
    path: string;
    loaded: number;
    total: number;
    phase: Upload.Phase;
    mode: Upload.Mode | null;
    state: 'running' | 'completed' | 'failed';
    error: string | null;
  }

  /** Whether a link still works: neither revoked nor expired. */
  export function isLive(link: ShareLink, now = Date.now()): boolean {
    return link.revokedAt === null && Date.parse(link.expiresAt) > now;
  }

  /** Bytes as the quota bar shows them (`1.5 GiB`). */
  export function formatBytes(bytes: number): string {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
  }

  /** Usage of a tier summed over its scopes; `null` parts are unknown. */
  export function usage(tier: Tier): Array<{
    scope: string;
    bytes: number | null;
    quotaBytes: number | null;
    fraction: number | null;
  }> {
    return Object.entries(tier.usage).map(([scope, usage]) => ({
      scope,
      bytes: usage.bytes,
      quotaBytes: usage.quotaBytes,
      fraction:
        usage.bytes !== null && usage.quotaBytes
          ? Math.min(1, usage.bytes / usage.quotaBytes)
          : null
    }));
  }
}
