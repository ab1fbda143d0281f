/**
 * The `endpoint_keys` table (migration 5; token counters, migration 9): one row per API
 * key, stored as the SHA-256 hex of the key, with its limits and token counters.
 */
import { z } from 'zod';
import type { Store } from '../../store';
import { camelized, whereDefined } from '../../store/rows';
import type { ILabels } from '../usage-buckets';

export interface IKeyLimits {
  /** Requests per minute for this key; null: unlimited. */
  requestsPerMinute: number | null;
  /** Prompt + completion tokens this key may use in total; null: unlimited. */
  tokenBudget: number | null;
}

export interface IKeyRecord extends IKeyLimits {
  id: string;
  endpointId: string;
  /** The user who created the key. */
  owner: string;
  name: string;
  /** `hpcb_` and the first characters of the key, to recognise it in a list. */
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** The job the bridge made the key for; null: a user's own key. */
  jobId: string | null;
}

/** A key's token counters. */
export interface IKeyTokens {
  /** Charged by settled requests. */
  used: number;
  /** Held by requests in flight. */
  reserved: number;
  budget: number | null;
}

const KeyRowSchema = z.object({
  id: z.string(),
  endpoint_id: z.string(),
  owner: z.string(),
  name: z.string(),
  key_hash: z.string(),
  prefix: z.string(),
  requests_per_minute: z.number().int().nullable(),
  token_budget: z.number().int().nullable(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  job_id: z.string().nullable()
});
export type KeyRow = z.infer<typeof KeyRowSchema>;

const KeyRecordRowSchema = KeyRowSchema.omit({ key_hash: true });

export function keyRecordOf(row: unknown): IKeyRecord {
  return camelized(KeyRecordRowSchema.parse(row));
}

const KeyTokensRowSchema = z.object({
  tokens_used: z.number().int(),
  tokens_reserved: z.number().int(),
  token_budget: z.number().int().nullable()
});

const LabelsRowSchema = z.object({
  owner: z.string(),
  key_name: z.string(),
  endpoint_owner: z.string(),
  endpoint_name: z.string()
});

export class EndpointKeyTable {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  insert(row: KeyRow): void {
    this.db
      .prepare(
        `INSERT INTO endpoint_keys (id, endpoint_id, owner, name, key_hash, prefix,
           requests_per_minute, token_budget, created_at, revoked_at, last_used_at, job_id)
         VALUES (@id, @endpoint_id, @owner, @name, @key_hash, @prefix,
           @requests_per_minute, @token_budget, @created_at, @revoked_at, @last_used_at,
           @job_id)`
      )
      .run(row);
  }

  get(keyId: string): IKeyRecord | undefined {
    const row = this.db
      .prepare('SELECT * FROM endpoint_keys WHERE id = ?')
      .get(keyId);
    return row === undefined ? undefined : keyRecordOf(row);
  }

  /** The row of a key hash (hash included, for the constant-time comparison). */
  byHash(hash: string): KeyRow | undefined {
    const row = this.store
      .statement('SELECT * FROM endpoint_keys WHERE key_hash = ?')
      .get(hash);
    return row === undefined ? undefined : KeyRowSchema.parse(row);
  }

  /** The endpoint's keys (revoked ones included), newest first; `owner` narrows to one user's. */
  list(endpointId: string, owner?: string): IKeyRecord[] {
    const where = whereDefined([
      ['endpoint_id = ?', endpointId],
      ['owner = ?', owner]
    ]);
    return this.db
      .prepare(
        `SELECT * FROM endpoint_keys${where.sql} ORDER BY created_at DESC, id`
      )
      .all(...where.args)
      .map(keyRecordOf);
  }

  /** Everyone who created a key. */
  owners(): string[] {
    return this.db
      .prepare('SELECT DISTINCT owner FROM endpoint_keys')
      .all()
      .map(r => z.object({ owner: z.string() }).parse(r).owner);
  }

  revoke(keyId: string, at: string): void {
    this.db
      .prepare(
        'UPDATE endpoint_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'
      )
      .run(at, keyId);
  }

  /** The keys made for a job (revoked ones included). */
  ofJob(jobId: string): IKeyRecord[] {
    return this.db
      .prepare('SELECT * FROM endpoint_keys WHERE job_id = ? ORDER BY rowid')
      .all(jobId)
      .map(keyRecordOf);
  }

  /** Revokes the keys made for a job; how many were live. */
  revokeJob(jobId: string, at: string): number {
    return this.db
      .prepare(
        'UPDATE endpoint_keys SET revoked_at = ? WHERE job_id = ? AND revoked_at IS NULL'
      )
      .run(at, jobId).changes;
  }

  /** Revokes the live keys of jobs that have ended (in table `jobs`); how many. */
  revokeOfEndedJobs(at: string): number {
    return this.db
      .prepare(
        `UPDATE endpoint_keys SET revoked_at = ?
         WHERE job_id IN (SELECT id FROM jobs WHERE terminal = 1) AND revoked_at IS NULL`
      )
      .run(at).changes;
  }

  /** Revokes every key of an endpoint; how many were live. */
  revokeAll(endpointId: string, at: string): number {
    return this.db
      .prepare(
        'UPDATE endpoint_keys SET revoked_at = ? WHERE endpoint_id = ? AND revoked_at IS NULL'
      )
      .run(at, endpointId).changes;
  }

  setLimits(keyId: string, limits: IKeyLimits): void {
    this.db
      .prepare(
        'UPDATE endpoint_keys SET requests_per_minute = ?, token_budget = ? WHERE id = ?'
      )
      .run(limits.requestsPerMinute, limits.tokenBudget, keyId);
  }

  markUsed(keyId: string, at: string): void {
    this.store
      .statement('UPDATE endpoint_keys SET last_used_at = ? WHERE id = ?')
      .run(at, keyId);
  }

  /** A key's token counters; null for an unknown key. */
  tokens(keyId: string): IKeyTokens | null {
    const row = this.store
      .statement(
        'SELECT tokens_used, tokens_reserved, token_budget FROM endpoint_keys WHERE id = ?'
      )
      .get(keyId);
    if (row === undefined) {
      return null;
    }
    const r = KeyTokensRowSchema.parse(row);
    return {
      used: r.tokens_used,
      reserved: r.tokens_reserved,
      budget: r.token_budget
    };
  }

  /** The key's and its endpoint's names now (null when the key is gone). */
  labels(keyId: string): ILabels | null {
    const row = this.store
      .statement(
        `SELECT k.owner AS owner, k.name AS key_name, e.owner AS endpoint_owner,
           e.name AS endpoint_name
         FROM endpoint_keys k JOIN endpoints e ON e.id = k.endpoint_id WHERE k.id = ?`
      )
      .get(keyId);
    return row === undefined ? null : camelized(LabelsRowSchema.parse(row));
  }
}
