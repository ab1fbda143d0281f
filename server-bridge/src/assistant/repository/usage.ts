/** The `assistant_usage` table (migration 19): the assistant's requests and tokens per user, endpoint, purpose and day. */
import { z } from 'zod';
import type { AssistantPurpose } from '../../contract';
import type { Store } from '../../store';

export interface IAssistantUse {
  user: string;
  endpointId: string;
  purpose: AssistantPurpose;
  /** When the request was settled (ms). */
  at: number;
  tokens: number;
}

/** Tokens by purpose. */
export interface IPurposeTokens {
  completion: number;
  chat: number;
}

const TotalsRowSchema = z.object({
  user: z.string(),
  purpose: z.enum(['completion', 'chat']),
  tokens: z.number().int()
});

export class AssistantUsageTable {
  constructor(private readonly store: Store) {}

  add(use: IAssistantUse): void {
    this.store
      .statement(
        `INSERT INTO assistant_usage (user, endpoint_id, purpose, day, requests, tokens)
         VALUES (@user, @endpointId, @purpose, @day, 1, @tokens)
         ON CONFLICT (user, endpoint_id, purpose, day) DO UPDATE SET
           requests = assistant_usage.requests + 1,
           tokens = assistant_usage.tokens + excluded.tokens`
      )
      .run({
        user: use.user,
        endpointId: use.endpointId,
        purpose: use.purpose,
        day: new Date(use.at).toISOString().slice(0, 10),
        tokens: Math.max(0, Math.round(use.tokens))
      });
  }

  /** Per user, the tokens their assistant used on an endpoint, by purpose. */
  byUser(endpointId: string): Map<string, IPurposeTokens> {
    const rows = this.store.db
      .prepare(
        `SELECT user, purpose, SUM(tokens) AS tokens FROM assistant_usage
         WHERE endpoint_id = ? GROUP BY user, purpose`
      )
      .all(endpointId)
      .map(r => TotalsRowSchema.parse(r));
    const out = new Map<string, IPurposeTokens>();
    for (const r of rows) {
      const t = out.get(r.user) ?? { completion: 0, chat: 0 };
      t[r.purpose] += r.tokens;
      out.set(r.user, t);
    }
    return out;
  }
}
