/** Share links and multipart upload sessions in the store (tables of migrations 3, 10). */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../../store';
import { camelized, IdTable, whereDefined } from '../../store/rows';

/** 24 url-safe characters from 18 random bytes (144 bits). */
export function randomId(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

export interface IShareLinkRecord {
  id: string;
  tier: string;
  owner: string;
  path: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  /** `size:mtime` of the file when the link was made (null: links from before). */
  version: string | null;
}

const LinkRowSchema = z.object({
  id: z.string(),
  tier: z.string(),
  owner: z.string(),
  path: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  revoked_at: z.string().nullable(),
  version: z.string().nullable()
});

export class LinkTable extends IdTable<IShareLinkRecord> {
  constructor(store: Store) {
    super(store.db, 'share_links', LinkRowSchema, row =>
      camelized(LinkRowSchema.parse(row))
    );
  }

  /** The owner's links, newest first (optionally of one tier). */
  byOwner(owner: string, tier?: string): IShareLinkRecord[] {
    const where = whereDefined([
      ['owner = ?', owner],
      ['tier = ?', tier]
    ]);
    return this.db
      .prepare(`SELECT * FROM share_links${where.sql} ORDER BY created_at DESC`)
      .all(...where.args)
      .map(this.recordOf);
  }

  revoke(id: string, at: string): void {
    this.db
      .prepare(
        'UPDATE share_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'
      )
      .run(at, id);
  }
}

export interface IUploadRecord {
  id: string;
  tier: string;
  owner: string;
  /** The tier path the file will have. */
  path: string;
  s3UploadId: string;
  mode: 'direct' | 'bridge';
  size: number;
  partSize: number;
  partCount: number;
  /** False: complete refuses when a file exists at `path` by then. */
  overwrite: boolean;
  createdAt: string;
  expiresAt: string;
}

const UploadRowSchema = z.object({
  id: z.string(),
  tier: z.string(),
  owner: z.string(),
  path: z.string(),
  s3_upload_id: z.string(),
  mode: z.enum(['direct', 'bridge']),
  size: z.number(),
  part_size: z.number(),
  part_count: z.number(),
  overwrite: z.number().transform(n => n !== 0),
  created_at: z.string(),
  expires_at: z.string()
});

export class UploadTable extends IdTable<IUploadRecord> {
  constructor(store: Store) {
    super(store.db, 'upload_sessions', UploadRowSchema, row =>
      camelized(UploadRowSchema.parse(row))
    );
  }

  /** The owner's sessions on a tier that have not expired at `now`, oldest first. */
  open(owner: string, tier: string, now: string): IUploadRecord[] {
    return this.db
      .prepare(
        'SELECT * FROM upload_sessions WHERE owner = ? AND tier = ? AND expires_at > ? ORDER BY created_at'
      )
      .all(owner, tier, now)
      .map(this.recordOf);
  }

  /** Sessions expired at `now`, at most `limit` of them. */
  expired(now: string, limit: number): IUploadRecord[] {
    return this.db
      .prepare(
        'SELECT * FROM upload_sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?'
      )
      .all(now, limit)
      .map(this.recordOf);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM upload_sessions WHERE id = ?').run(id);
  }

  /** Whether a session that has not expired at `nowIso` owns this S3 multipart upload. */
  ownsS3Upload(s3UploadId: string, nowIso: string): boolean {
    return (
      this.db
        .prepare(
          'SELECT 1 FROM upload_sessions WHERE s3_upload_id = ? AND expires_at > ?'
        )
        .get(s3UploadId, nowIso) !== undefined
    );
  }
}
