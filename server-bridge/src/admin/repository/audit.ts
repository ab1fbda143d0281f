/**
 * Reads of the store's append-only `audit` table (the store writes it): the search over
 * the audit log (filters combine with AND) and the users it names.
 */
import { z } from 'zod';
import type { AuditRecord } from '../../contract';
import { AuditRowSchema, type Store } from '../../store';
import { whereDefined } from '../../store/rows';

export interface IAuditSearch {
  user?: string;
  /** Prefix of the action. */
  action?: string;
  /** Storage records of this tier (targets `tier:path`). */
  tier?: string;
  /** Substring of the path (after `tier:` when `tier` is given, else of the target). */
  path?: string;
  /** Substring of the target. */
  q?: string;
  outcome?: 'ok' | 'refused' | 'failed';
  /** ISO times, inclusive. */
  since?: string;
  until?: string;
  limit: number;
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, c => `\\${c}`);
}

const LIKE = "LIKE ? ESCAPE '\\'";

function targetPattern(f: IAuditSearch): string | undefined {
  if (f.tier !== undefined) {
    return `${likeEscape(f.tier)}:${f.path === undefined ? '' : `%${likeEscape(f.path)}`}%`;
  }
  return f.path === undefined ? undefined : `%${likeEscape(f.path)}%`;
}

/** The newest matching records first. */
export function searchAudit(store: Store, f: IAuditSearch): AuditRecord[] {
  const where = whereDefined([
    ['user = ?', f.user],
    [
      `action ${LIKE}`,
      f.action === undefined ? undefined : `${likeEscape(f.action)}%`
    ],
    [`target ${LIKE}`, targetPattern(f)],
    [`target ${LIKE}`, f.q === undefined ? undefined : `%${likeEscape(f.q)}%`],
    ["json_extract(details, '$.outcome') = ?", f.outcome],
    [
      'ts >= ?',
      f.since === undefined ? undefined : new Date(f.since).toISOString()
    ],
    [
      'ts <= ?',
      f.until === undefined ? undefined : new Date(f.until).toISOString()
    ]
  ]);
  return store.db
    .prepare(
      `SELECT id, ts, user, action, target, details FROM audit${where.sql} ORDER BY id DESC LIMIT ?`
    )
    .all(...where.args, f.limit)
    .map(r => {
      const row = AuditRowSchema.parse(r);
      let details: Record<string, unknown>;
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

/** Every user the audit log names. */
export function auditedUsers(store: Store): string[] {
  return store.db
    .prepare('SELECT DISTINCT user FROM audit')
    .all()
    .map(r => z.object({ user: z.string() }).parse(r).user);
}
