/**
 * The audit trail of sensitive tiers (append-only rows in the store's `audit` table;
 * searched through `admin/repository/audit.ts`).
 */
import type { Store } from '../store';

export type StorageAction =
  | 'list'
  | 'stat'
  | 'read'
  | 'write'
  | 'delete'
  | 'rename'
  | 'copy'
  | 'mkdir'
  | 'upload'
  | 'upload-abort'
  | 'link'
  | 'code-access';

export interface IStorageAuditEntry {
  user: string;
  action: StorageAction;
  tier: string;
  path: string;
  outcome: 'ok' | 'refused' | 'failed';
  details?: Record<string, unknown>;
}

export class StorageAudit {
  constructor(private readonly store: Store) {}

  record(entry: IStorageAuditEntry): void {
    this.store.audit({
      user: entry.user,
      action: `storage.${entry.action}`,
      target: `${entry.tier}:${entry.path}`,
      details: { ...entry.details, outcome: entry.outcome }
    });
  }
}
