import type {
  AdminHealth,
  AdminOverview,
  AdminUsage,
  AuditRecord,
  AuditSearchQuery,
  ClusterKernel,
  JobState
} from '@hpc-bridge/server/contract';
import type { IAdminApi } from './api';
import { PolledModel } from '../transport/PolledModel';

/** The Admin section's sub-views. */
export type AdminTab = 'jobs' | 'kernels' | 'usage' | 'health' | 'audit';

/** Filters of the audit search, as typed in the form. */
export interface IAuditForm {
  user: string;
  tier: string;
  path: string;
  action: string;
  outcome: '' | 'ok' | 'refused' | 'failed';
  since: string;
  until: string;
}

export interface IJobFilter {
  user: string;
  state: '' | JobState;
}

const EMPTY_AUDIT: IAuditForm = {
  user: '',
  tier: '',
  path: '',
  action: '',
  outcome: '',
  since: '',
  until: ''
};

/** `2026-03-01T10:00` (a datetime-local input) as an ISO time; undefined when empty. */
function isoOf(local: string): string | undefined {
  if (local === '') {
    return undefined;
  }
  const ms = Date.parse(local);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * The Admin section's data: whether the user is an admin (whoami roles), then the
 * open tab's data, polled while the section is visible. The audit view loads on search.
 */
export class AdminModel extends PolledModel {
  constructor(options: AdminModel.IOptions) {
    super({
      name: 'admin',
      frequency: { interval: 30_000, backoff: true, max: 300_000 },
      auto: false
    });
    this._api = options.api;
  }

  /** Whether the user is an admin; null until whoami answered. */
  get isAdmin(): boolean | null {
    return this._isAdmin;
  }
  get tab(): AdminTab {
    return this._tab;
  }
  get overview(): AdminOverview | null {
    return this._overview;
  }
  /** Running cluster kernels of every user, oldest first; null until loaded. */
  get kernels(): ClusterKernel[] | null {
    return this._kernels;
  }
  get usage(): AdminUsage | null {
    return this._usage;
  }
  get health(): AdminHealth | null {
    return this._health;
  }
  get auditRecords(): AuditRecord[] | null {
    return this._audit;
  }
  get auditForm(): IAuditForm {
    return this._auditForm;
  }
  get jobFilter(): IJobFilter {
    return this._jobFilter;
  }
  get usageBy(): 'user' | 'group' {
    return this._usageBy;
  }

  set visible(visible: boolean) {
    this._visible = visible;
    if (visible) {
      void this.refresh();
    }
  }

  /** Asks whoami (the section shows only for admins), then polls while visible. */
  async start(): Promise<void> {
    try {
      const me = await this._api.whoami();
      this._isAdmin = me.roles.includes('admin');
      this.emitChanged();
    } catch {
      // The poll asks again once the bridge answers.
    }
    await this.poll.start();
  }

  setTab(tab: AdminTab): void {
    this._tab = tab;
    this.emitChanged();
    void this.refresh();
  }

  setJobFilter(filter: IJobFilter): void {
    this._jobFilter = filter;
    void this.refresh();
  }

  setUsageBy(by: 'user' | 'group'): void {
    this._usageBy = by;
    void this.refresh();
  }

  setAuditForm(form: IAuditForm): void {
    this._auditForm = form;
    this.emitChanged();
  }

  /** Runs the audit search with the form's filters. */
  async search(): Promise<void> {
    this._audit = await this._api.audit(this.auditQuery());
    this.emitChanged();
  }

  /** The search's records as a file. */
  exportAudit(format: 'jsonl' | 'csv'): Promise<Blob> {
    return this._api.exportAudit(this.auditQuery(), format);
  }

  auditQuery(): AuditSearchQuery {
    const f = this._auditForm;
    const q: AuditSearchQuery = { limit: 500 };
    const since = isoOf(f.since);
    const until = isoOf(f.until);
    for (const [key, value] of [
      ['user', f.user.trim()],
      ['tier', f.tier.trim()],
      ['path', f.path],
      ['action', f.action.trim()]
    ] as const) {
      if (value !== '') {
        q[key] = value;
      }
    }
    if (f.outcome !== '') {
      q.outcome = f.outcome;
    }
    if (since) {
      q.since = since;
    }
    if (until) {
      q.until = until;
    }
    return q;
  }

  protected standby(): boolean | 'when-hidden' {
    return !this._visible || 'when-hidden';
  }

  protected async load(): Promise<void> {
    if (this._isAdmin === null) {
      const me = await this._api.whoami();
      this._isAdmin = me.roles.includes('admin');
      this.emitChanged();
    }
    if (!this._isAdmin || !this._visible) {
      return;
    }
    switch (this._tab) {
      case 'jobs': {
        const f = this._jobFilter;
        this._overview = await this._api.overview({
          ...(f.user.trim() === '' ? {} : { user: f.user.trim() }),
          ...(f.state === '' ? {} : { state: f.state })
        });
        break;
      }
      case 'kernels':
        this._kernels = (await this._api.kernels()).sort((a, b) =>
          a.createdAt.localeCompare(b.createdAt)
        );
        break;
      case 'usage':
        this._usage = await this._api.usage(this._usageBy);
        break;
      case 'health':
        this._health = await this._api.health(24);
        break;
      case 'audit':
        if (this._audit !== null) {
          await this.search();
        }
        break;
    }
  }

  private readonly _api: IAdminApi;
  private _isAdmin: boolean | null = null;
  private _visible = false;
  private _tab: AdminTab = 'jobs';
  private _overview: AdminOverview | null = null;
  private _kernels: ClusterKernel[] | null = null;
  private _usage: AdminUsage | null = null;
  private _health: AdminHealth | null = null;
  private _audit: AuditRecord[] | null = null;
  private _auditForm: IAuditForm = EMPTY_AUDIT;
  private _jobFilter: IJobFilter = { user: '', state: '' };
  private _usageBy: 'user' | 'group' = 'user';
}

export namespace AdminModel {
  export interface IOptions {
    api: IAdminApi;
  }
}
