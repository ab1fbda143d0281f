import {
  AdminHealthSchema,
  AdminOverviewSchema,
  AdminUsageSchema,
  AuditListSchema,
  Routes
} from '@hpc-bridge/server/contract';
import type * as contract from '@hpc-bridge/server/contract';
import type { IBridgeClient } from '../tokens';

/** The contract's admin types. */
export namespace Admin {
  export type Overview = contract.AdminOverview;
  export type OverviewQuery = contract.AdminOverviewQuery;
  export type Usage = contract.AdminUsage;
  export type UsageRow = contract.AdminUsageRow;
  export type Health = contract.AdminHealth;
  export type BackendHistory = contract.BackendHistory;
  export type AuditRecord = contract.AuditRecord;
  export type AuditQuery = contract.AuditSearchQuery;
  export type JobState = contract.JobState;
}

/** Query values as strings, without the empty ones. */
function query(q: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) {
    if (typeof v === 'string' ? v !== '' : typeof v === 'number') {
      out[k] = String(v);
    }
  }
  return out;
}

/** The admin routes of the bridge; the Admin model talks to the bridge only through this. */
export interface IAdminApi {
  whoami(): Promise<{ name: string; roles: string[] }>;
  overview(q: Admin.OverviewQuery): Promise<Admin.Overview>;
  usage(by: 'user' | 'group', since?: string): Promise<Admin.Usage>;
  health(hours: number): Promise<Admin.Health>;
  audit(q: Admin.AuditQuery): Promise<Admin.AuditRecord[]>;
  /** The matching records as a file (`jsonl` or `csv`). */
  exportAudit(q: Admin.AuditQuery, format: 'jsonl' | 'csv'): Promise<Blob>;
}

export class AdminApi implements IAdminApi {
  constructor(private readonly _client: IBridgeClient) {}

  whoami(): Promise<{ name: string; roles: string[] }> {
    return this._client.whoami();
  }

  overview(q: Admin.OverviewQuery): Promise<Admin.Overview> {
    return this._client.request(
      'GET',
      Routes.adminOverview,
      AdminOverviewSchema,
      { query: query({ ...q }) }
    );
  }

  usage(by: 'user' | 'group', since?: string): Promise<Admin.Usage> {
    return this._client.request('GET', Routes.adminUsage, AdminUsageSchema, {
      query: query({ by, since })
    });
  }

  health(hours: number): Promise<Admin.Health> {
    return this._client.request('GET', Routes.adminHealth, AdminHealthSchema, {
      query: { hours: String(hours) }
    });
  }

  async audit(q: Admin.AuditQuery): Promise<Admin.AuditRecord[]> {
    const list = await this._client.request(
      'GET',
      Routes.audit,
      AuditListSchema,
      { query: query({ ...q, format: 'json' }) }
    );
    return list.records;
  }

  async exportAudit(
    q: Admin.AuditQuery,
    format: 'jsonl' | 'csv'
  ): Promise<Blob> {
    const response = await this._client.fetchRaw('GET', Routes.audit, {
      query: query({ ...q, format, limit: 10000 }),
      accept: format === 'csv' ? 'text/csv' : 'application/x-ndjson'
    });
    return response.blob();
  }
}
