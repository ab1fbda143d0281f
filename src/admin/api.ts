import {
  type AdminHealth,
  AdminHealthSchema,
  type AdminOverview,
  type AdminOverviewQuery,
  AdminOverviewSchema,
  type AdminUsage,
  AdminUsageSchema,
  AuditListSchema,
  type ClusterKernel,
  KernelListSchema,
  type AuditRecord,
  type AuditSearchQuery,
  Routes
} from '@hpc-bridge/server/contract';
import type { IBridgeClient } from '../tokens';

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
  overview(q: AdminOverviewQuery): Promise<AdminOverview>;
  usage(by: 'user' | 'group', since?: string): Promise<AdminUsage>;
  health(hours: number): Promise<AdminHealth>;
  audit(q: AuditSearchQuery): Promise<AuditRecord[]>;
  /** Every cluster kernel that has not ended (`GET /admin/kernels`). */
  kernels(): Promise<ClusterKernel[]>;
  /** The matching records as a file (`jsonl` or `csv`). */
  exportAudit(q: AuditSearchQuery, format: 'jsonl' | 'csv'): Promise<Blob>;
}

export class AdminApi implements IAdminApi {
  constructor(private readonly _client: IBridgeClient) {}

  whoami(): Promise<{ name: string; roles: string[] }> {
    return this._client.whoami();
  }

  overview(q: AdminOverviewQuery): Promise<AdminOverview> {
    return this._client.request(
      'GET',
      Routes.adminOverview,
      AdminOverviewSchema,
      { query: query({ ...q }) }
    );
  }

  usage(by: 'user' | 'group', since?: string): Promise<AdminUsage> {
    return this._client.request('GET', Routes.adminUsage, AdminUsageSchema, {
      query: query({ by, since })
    });
  }

  health(hours: number): Promise<AdminHealth> {
    return this._client.request('GET', Routes.adminHealth, AdminHealthSchema, {
      query: { hours: String(hours) }
    });
  }

  async audit(q: AuditSearchQuery): Promise<AuditRecord[]> {
    const list = await this._client.request(
      'GET',
      Routes.audit,
      AuditListSchema,
      { query: query({ ...q, format: 'json' }) }
    );
    return list.records;
  }

  async kernels(): Promise<ClusterKernel[]> {
    const list = await this._client.request(
      'GET',
      Routes.adminKernels,
      KernelListSchema
    );
    return list.kernels;
  }

  async exportAudit(
    q: AuditSearchQuery,
    format: 'jsonl' | 'csv'
  ): Promise<Blob> {
    const response = await this._client.fetchRaw('GET', Routes.audit, {
      query: query({ ...q, format, limit: 10000 }),
      accept: format === 'csv' ? 'text/csv' : 'application/x-ndjson'
    });
    return response.blob();
  }
}
