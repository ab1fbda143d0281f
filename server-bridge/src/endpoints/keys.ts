/**
 * API keys of model-serving endpoints (table `endpoint_keys`, migration 5). A key is
 * `hpcb_` + 32 random bytes in base64url; it is shown once, at creation, and stored as
 * the SHA-256 hex of the whole key. Each key opens exactly one endpoint.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../domain-error';
import type { Store } from '../store';
import {
  EndpointKeyTable,
  keyRecordOf,
  type IKeyLimits,
  type IKeyRecord,
  type KeyRow
} from './repository/keys';

export const KEY_PREFIX = 'hpcb_';
/** What the list shows of a key: the prefix and a few characters, never enough to use. */
const SHOWN_CHARS = KEY_PREFIX.length + 4;

/** What a presented, valid key resolves to. */
export interface IResolvedKey {
  keyId: string;
  endpointId: string;
  owner: string;
  limits: IKeyLimits;
}

export interface IKeyCreate {
  name: string;
  requestsPerMinute?: number | null;
  tokenBudget?: number | null;
  /** The job the bridge makes the key for. */
  jobId?: string;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new key: `hpcb_` + 43 base64url characters (32 random bytes). */
export function newKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** The key of an `Authorization: Bearer …` header; null when there is none. */
export function bearerOf(header: string | undefined): string | null {
  if (header === undefined) {
    return null;
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
  return m === null ? null : (m[1] ?? null);
}

/** How often `lastUsedAt` is written at most per key (it is a hint, not an audit). */
const LAST_USED_EVERY_MS = 10_000;

export class EndpointKeys {
  /** keyId → last time `last_used_at` was written. */
  private readonly lastUsedWritten = new Map<string, number>();
  private readonly table: EndpointKeyTable;

  constructor(
    store: Store,
    private readonly now: () => number = Date.now
  ) {
    this.table = new EndpointKeyTable(store);
  }

  /** Creates a key; the returned `key` is the only time the secret is seen. */
  create(
    endpointId: string,
    owner: string,
    request: IKeyCreate
  ): { key: string; record: IKeyRecord } {
    const key = newKey();
    const row: KeyRow = {
      id: randomBytes(12).toString('base64url'),
      endpoint_id: endpointId,
      owner,
      name: request.name,
      key_hash: hashKey(key),
      prefix: key.slice(0, SHOWN_CHARS),
      requests_per_minute: request.requestsPerMinute ?? null,
      token_budget: request.tokenBudget ?? null,
      created_at: new Date(this.now()).toISOString(),
      revoked_at: null,
      last_used_at: null,
      job_id: request.jobId ?? null
    };
    this.table.insert(row);
    return { key, record: keyRecordOf(row) };
  }

  get(keyId: string): IKeyRecord | undefined {
    return this.table.get(keyId);
  }

  /** The endpoint's keys (revoked ones included), newest first; `owner` narrows to one user's. */
  list(endpointId: string, owner?: string): IKeyRecord[] {
    return this.table.list(endpointId, owner);
  }

  /** Revokes a key of the endpoint (idempotent); 404 when the endpoint has no such key. */
  revoke(endpointId: string, keyId: string): IKeyRecord {
    const key = this.get(keyId);
    if (key === undefined || key.endpointId !== endpointId) {
      throw new DomainError(
        'not_found',
        `Endpoint ${endpointId} has no key ${keyId}`
      );
    }
    this.table.revoke(keyId, new Date(this.now()).toISOString());
    return this.get(keyId) ?? key;
  }

  /** Changes a key's limits (a course's budget changed); takes effect at its next request. */
  setLimits(keyId: string, limits: IKeyLimits): void {
    this.table.setLimits(keyId, limits);
  }

  /** The keys made for a job (revoked ones included). */
  ofJob(jobId: string): IKeyRecord[] {
    return this.table.ofJob(jobId);
  }

  /** Revokes the keys made for a job (idempotent); how many were live. */
  revokeJob(jobId: string): number {
    return this.table.revokeJob(jobId, new Date(this.now()).toISOString());
  }

  /** Revokes the keys of jobs that ended while no poller saw them end; how many. */
  revokeOfEndedJobs(): number {
    return this.table.revokeOfEndedJobs(new Date(this.now()).toISOString());
  }

  /** Revokes every key of an endpoint (call when the endpoint is deleted). */
  revokeAll(endpointId: string): number {
    return this.table.revokeAll(endpointId, new Date(this.now()).toISOString());
  }

  /**
   * The endpoint and limits of a presented key; null for a malformed, unknown or
   * revoked key. The lookup is by SHA-256 of the key (an index hit reveals nothing
   * about the secret); the stored hash is then compared in constant time.
   */
  resolve(presented: string): IResolvedKey | null {
    if (!presented.startsWith(KEY_PREFIX) || presented.length > 200) {
      return null;
    }
    const hash = hashKey(presented);
    const key = this.table.byHash(hash);
    if (key === undefined) {
      return null;
    }
    const same = timingSafeEqual(
      Buffer.from(key.key_hash, 'hex'),
      Buffer.from(hash, 'hex')
    );
    if (!same || key.revoked_at !== null) {
      return null;
    }
    this.markUsed(key.id);
    return {
      keyId: key.id,
      endpointId: key.endpoint_id,
      owner: key.owner,
      limits: {
        requestsPerMinute: key.requests_per_minute,
        tokenBudget: key.token_budget
      }
    };
  }

  private markUsed(keyId: string): void {
    const now = this.now();
    const last = this.lastUsedWritten.get(keyId);
    if (last !== undefined && now - last < LAST_USED_EVERY_MS) {
      return;
    }
    this.lastUsedWritten.set(keyId, now);
    this.table.markUsed(keyId, new Date(now).toISOString());
  }
}
