/** The exports of the admins' audit search: JSON Lines and CSV (RFC 4180 quoting). */
import { AUDIT_CSV_COLUMNS, type AuditRecord } from '../contract';

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
