/**
 * The audit trail of sensitive tiers (append-only rows in the store's `audit` table)
 * and the admin's query over the whole audit log.
 */
import { z } from 'zod';
import type { AuditRecord } from '../contract';
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

const RowSchema = z.object({
  id: z.number(),
  ts: z.string(),
  user: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  details: z.string()
});

export interface IAuditFilter {
  user?: string;
  /** Prefix of the action. */
  action?: string;
  /** Substring of the target. */
  q?: string;
  limit: number;
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, c => `\\${c}`);
}

/** The newest matching records first. */
export function queryAudit(store: Store, filter: IAuditFilter): AuditRecord[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (filter.user !== undefined) {
    where.push('user = ?');
    args.push(filter.user);
  }
  if (filter.action !== undefined) {
    where.push("action LIKE ? ESCAPE '\\'");
    args.push(`${likeEscape(filter.action)}%`);
  }
  if (filter.q !== undefined) {
    where.push("target LIKE ? ESCAPE '\\'");
    args.push(`%${likeEscape(filter.q)}%`);
  }
  const sql = `SELECT id, ts, user, action, target, details FROM audit${
    where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''
  } ORDER BY id DESC LIMIT ?`;
  return store.db
    .prepare(sql)
    .all(...args, filter.limit)
    .map(r => {
      const row = RowSchema.parse(r);
      let details: Record<string, unknown> = {};
      try {
        details = z
          .record(z.string(), z.unknown())
          .parse(JSON.parse(row.details));
      } catch {
        details = { raw: row.details };
      }
      return { ...row, target: row.target ?? '', details };
    });
}
