/**
 * The `endpoint_usage` table (migrations 5 and 11): per key and minute, requests, errors,
 * prompt and completion tokens, the latency sum and a small latency sample.
 */
import { z } from 'zod';
import type { Store } from '../../store';
import { camelized, type Camelized } from '../../store/rows';
import type { IBucket } from '../usage-buckets';

const UsageRowSchema = z.object({
  key_id: z.string(),
  endpoint_id: z.string(),
  owner: z.string(),
  endpoint_owner: z.string(),
  endpoint_name: z.string(),
  key_name: z.string(),
  minute: z.number().int(),
  requests: z.number().int(),
  errors: z.number().int(),
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  latency_ms_sum: z.number(),
  latency_seen: z.number().int(),
  latency_sample: z.string()
});

const SampleSchema = z.array(z.number());

export function bucketOf(row: unknown): IBucket {
  const { latencyMsSum, latencySeen, latencySample, ...counts } = camelized(
    UsageRowSchema.parse(row)
  );
  return {
    ...counts,
    latencySum: latencyMsSum,
    seen: latencySeen,
    sample: SampleSchema.parse(JSON.parse(latencySample))
  };
}

const KeyUsageRowSchema = z.object({
  key_id: z.string(),
  requests: z.number(),
  tokens: z.number(),
  reserved: z.number()
});

const JobUsageRowSchema = z.object({
  endpoint_id: z.string(),
  requests: z.number().int(),
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  first_minute: z.number().int(),
  last_minute: z.number().int()
});
export type JobUsageRow = Camelized<z.infer<typeof JobUsageRowSchema>>;

const OwnerTokensRowSchema = z.object({
  owner: z.string(),
  tokens: z.number()
});

export class UsageTable {
  constructor(private readonly store: Store) {}

  /**
   * Adds the buckets to their rows (one transaction); `combine` merges a bucket into
   * the row already stored for its key and minute.
   */
  add(
    buckets: readonly IBucket[],
    combine: (stored: IBucket, added: IBucket) => IBucket
  ): void {
    const db = this.store.db;
    const read = db.prepare(
      'SELECT * FROM endpoint_usage WHERE key_id = ? AND minute = ?'
    );
    const write = db.prepare(
      `INSERT INTO endpoint_usage (key_id, endpoint_id, owner, endpoint_owner,
         endpoint_name, key_name, minute, requests, errors, prompt_tokens, completion_tokens,
         latency_ms_sum, latency_seen, latency_sample)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key_id, minute) DO UPDATE SET endpoint_id = excluded.endpoint_id,
         owner = excluded.owner, endpoint_owner = excluded.endpoint_owner,
         endpoint_name = excluded.endpoint_name, key_name = excluded.key_name,
         requests = excluded.requests, errors = excluded.errors,
         prompt_tokens = excluded.prompt_tokens,
         completion_tokens = excluded.completion_tokens,
         latency_ms_sum = excluded.latency_ms_sum, latency_seen = excluded.latency_seen,
         latency_sample = excluded.latency_sample`
    );
    // Read and written under the write lock: another replica may add to the same rows.
    this.store.exclusive(() => {
      for (const b of buckets) {
        const row = read.get(b.keyId, b.minute);
        const m = row === undefined ? b : combine(bucketOf(row), b);
        write.run(
          m.keyId,
          m.endpointId,
          m.owner,
          m.endpointOwner,
          m.endpointName,
          m.keyName,
          m.minute,
          m.requests,
          m.errors,
          m.promptTokens,
          m.completionTokens,
          m.latencySum,
          m.seen,
          JSON.stringify(m.sample)
        );
      }
    });
  }

  /** Requests (all minutes), lifetime tokens and tokens in flight per key of an endpoint. */
  keyUsage(
    endpointId: string
  ): { keyId: string; requests: number; tokens: number; reserved: number }[] {
    return this.store.db
      .prepare(
        `SELECT k.id AS key_id, k.tokens_used AS tokens, k.tokens_reserved AS reserved,
           COALESCE((SELECT SUM(u.requests) FROM endpoint_usage u WHERE u.key_id = k.id), 0)
             AS requests
         FROM endpoint_keys k WHERE k.endpoint_id = ?`
      )
      .all(endpointId)
      .map(r => camelized(KeyUsageRowSchema.parse(r)));
  }

  /** The endpoint's rows of minutes `first` to `last` (inclusive). */
  ofEndpoint(endpointId: string, first: number, last: number): IBucket[] {
    return this.store.db
      .prepare(
        'SELECT * FROM endpoint_usage WHERE endpoint_id = ? AND minute >= ? AND minute <= ?'
      )
      .all(endpointId, first, last)
      .map(bucketOf);
  }

  /** The last minute in which the endpoint had a request; null when it never had one. */
  lastMinute(endpointId: string): number | null {
    const row = z
      .object({ m: z.number().int().nullable() })
      .parse(
        this.store.db
          .prepare(
            'SELECT MAX(minute) AS m FROM endpoint_usage WHERE endpoint_id = ? AND requests > 0'
          )
          .get(endpointId)
      );
    return row.m;
  }

  /** Per endpoint, what the keys made for job `jobId` were used for (minutes with requests). */
  ofJob(jobId: string): JobUsageRow[] {
    return this.store.db
      .prepare(
        `SELECT u.endpoint_id AS endpoint_id, SUM(u.requests) AS requests,
           SUM(u.prompt_tokens) AS prompt_tokens, SUM(u.completion_tokens) AS completion_tokens,
           MIN(u.minute) AS first_minute, MAX(u.minute) AS last_minute
         FROM endpoint_usage u JOIN endpoint_keys k ON k.id = u.key_id
         WHERE k.job_id = ? AND u.requests > 0
         GROUP BY u.endpoint_id`
      )
      .all(jobId)
      .map(r => camelized(JobUsageRowSchema.parse(r)));
  }

  /** Prompt + completion tokens per key owner in minutes `first` to `last` (inclusive). */
  tokensPerOwner(
    first: number,
    last: number
  ): { owner: string; tokens: number }[] {
    return this.store.db
      .prepare(
        `SELECT owner, SUM(prompt_tokens + completion_tokens) AS tokens
         FROM endpoint_usage WHERE minute >= ? AND minute <= ? GROUP BY owner`
      )
      .all(first, last)
      .map(r => OwnerTokensRowSchema.parse(r));
  }
}
