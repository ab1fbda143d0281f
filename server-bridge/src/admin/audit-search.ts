/**
 * The admins' search over the audit log (filters combine with AND) and its exports:
 * JSON Lines and CSV (RFC 4180 quoting).
 */
import { z } from 'zod';
import { AUDIT_CSV_COLUMNS, type AuditRecord } from '../contract';
import type { Store } from '../store';

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

const RowSchema = z.object({
  id: z.number(),
  ts: z.string(),
  user: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  details: z.string()
});

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, c => `\\${c}`);
}

/** The newest matching records first. */
export function searchAudit(store: Store, f: IAuditSearch): AuditRecord[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  const like = (column: string, pattern: string) => {
    where.push(`${column} LIKE ? ESCAPE '\\'`);
    args.push(pattern);
  };
  if (f.user !== undefined) {
    where.push('user = ?');
    args.push(f.user);
  }
  if (f.action !== undefined) {
    like('action', `${likeEscape(f.action)}%`);
  }
  if (f.tier !== undefined) {
    like(
      'target',
      `${likeEscape(f.tier)}:${f.path === undefined ? '' : `%${likeEscape(f.path)}`}%`
    );
  } else if (f.path !== undefined) {
    like('target', `%${likeEscape(f.path)}%`);
  }
  if (f.q !== undefined) {
    like('target', `%${likeEscape(f.q)}%`);
  }
  if (f.outcome !== undefined) {
    where.push("json_extract(details, '$.outcome') = ?");
    args.push(f.outcome);
  }
  if (f.since !== undefined) {
    where.push('ts >= ?');
    args.push(new Date(f.since).toISOString());
  }
  if (f.until !== undefined) {
    where.push('ts <= ?');
    args.push(new Date(f.until).toISOString());
  }
  const sql = `SELECT id, ts, user, action, target, details FROM audit${
    where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''
  } ORDER BY id DESC LIMIT ?`;
  return store.db
    .prepare(sql)
    .all(...args, f.limit)
    .map(r => {
      const row = RowSchema.parse(r);
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

/** One CSV field: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, tab or CR as a formula; a
 * leading `'` keeps user-controlled text (paths, names) inert.
 */
function inert(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** The records as CSV with a header row, CRLF line ends (RFC 4180). */
export function auditCsv(records: readonly AuditRecord[]): string {
  const lines = [AUDIT_CSV_COLUMNS.join(',')];
  for (const r of records) {
    const outcome = r.details.outcome;
    const fields = [
      String(r.id),
      r.ts,
      inert(r.user),
      inert(r.action),
      inert(r.target),
      typeof outcome === 'string' ? outcome : '',
      JSON.stringify(r.details)
    ];
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** One JSON record per line. */
export function auditJsonl(records: readonly AuditRecord[]): string {
  return records.map(r => `${JSON.stringify(r)}\n`).join('');
}
