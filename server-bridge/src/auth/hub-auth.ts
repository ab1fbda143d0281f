/**
 * Resolves `Authorization: token T` with the hub (`GET {apiUrl}/user` with T itself)
 * and caches the decision by sha256(T) for a short time: a few seconds (the window in
 * which a token revoked at the hub still works), and never past the token's own
 * `expires_at` when the hub's answer carries one.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../domain-error';
import {
  decide,
  type AuthDecision,
  type IAuthPolicy,
  type IAuthUser
} from './decide';

/** What the hub said about a token. */
export type HubAnswer =
  { status: 'ok'; body: unknown } | { status: 'rejected'; httpStatus: number };

/**
 * Asks the hub who owns `token`. Resolves `rejected` when the hub refuses the token
 * (401/403); throws when the hub cannot be asked (network error, 5xx, timeout).
 */
export type FetchUser = (token: string) => Promise<HubAnswer>;

export class HubUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubUnavailableError';
  }
}

export function hubFetchUser(apiUrl: string, timeoutMs = 5_000): FetchUser {
  return async token => {
    let res: Response;
    try {
      res = await fetch(`${apiUrl}/user`, {
        headers: {
          authorization: `token ${token}`,
          accept: 'application/json'
        },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual'
      });
    } catch (e) {
      throw new HubUnavailableError(
        `hub not reachable: ${(e as Error).message}`
      );
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return { status: 'rejected', httpStatus: res.status };
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new HubUnavailableError(`hub answered ${res.status}`);
    }
    try {
      return { status: 'ok', body: await res.json() };
    } catch {
      throw new HubUnavailableError('hub answered with invalid JSON');
    }
  };
}

/** Extracts the token from `Authorization: token T` (or `Bearer T`); undefined when absent. */
export function tokenFromHeader(
  header: string | undefined
): string | undefined {
  if (header === undefined) {
    return undefined;
  }
  const m = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

interface ICacheEntry {
  decision: AuthDecision;
  expires: number;
}

/** The longest time an accepted token is trusted without asking the hub again. */
export const MAX_TOKEN_CACHE_MS = 30_000;
export const DEFAULT_TOKEN_CACHE_MS = 5_000;

/**
 * The expiry (ms since the epoch) that the hub's answer states for the token: JupyterHub's
 * token model has `expires_at` (ISO 8601, or null for a token that never expires). Null
 * when the answer says nothing usable; a value that cannot be read counts as expired.
 */
export function expiryOf(body: unknown): number | null {
  if (typeof body !== 'object' || body === null || !('expires_at' in body)) {
    return null;
  }
  const value = (body as { expires_at: unknown }).expires_at;
  if (value === null || value === undefined) {
    return null;
  }
  if (typeof value !== 'string') {
    return 0;
  }
  // JupyterHub writes UTC without a zone ("2024-05-01T12:00:00.000000Z" or without Z).
  const iso = /(?:[zZ]|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms;
}

export interface IHubAuthOptions {
  policy: IAuthPolicy;
  fetchUser: FetchUser;
  /**
   * How long an accepted token is trusted without asking the hub again (default 5 s,
   * at most 30 s): a token revoked at the hub works for at most this long.
   */
  positiveTtlMs?: number;
  /** How long a rejected token is remembered (keeps a bad client from hammering the hub). */
  negativeTtlMs?: number;
  now?: () => number;
  maxEntries?: number;
}

export class HubAuth {
  private readonly cache = new Map<string, ICacheEntry>();
  private readonly inflight = new Map<string, Promise<AuthDecision>>();
  private readonly positiveTtlMs: number;
  private readonly negativeTtlMs: number;
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(private readonly options: IHubAuthOptions) {
    this.positiveTtlMs = Math.min(
      options.positiveTtlMs ?? DEFAULT_TOKEN_CACHE_MS,
      MAX_TOKEN_CACHE_MS
    );
    this.negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /**
   * The user behind an `Authorization` header value.
   * Throws `unauthenticated` (no token), `forbidden` (bad or insufficient token) or
   * `upstream_unavailable` (hub down).
   */
  async authenticate(header: string | undefined): Promise<IAuthUser> {
    const token = tokenFromHeader(header);
    if (token === undefined) {
      throw new DomainError(
        'unauthenticated',
        'Send the hub token as "Authorization: token <TOKEN>"'
      );
    }
    const decision = await this.resolve(token);
    if (!decision.ok) {
      throw new DomainError(
        'forbidden',
        `Token not accepted: ${decision.reason}`
      );
    }
    return decision.user;
  }

  private async resolve(token: string): Promise<AuthDecision> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.expires > now) {
      return hit.decision;
    }
    const pending = this.inflight.get(key);
    if (pending !== undefined) {
      return pending;
    }
    const p = this.ask(token).then(
      ({ decision, tokenExpires }) => {
        this.inflight.delete(key);
        this.remember(key, decision, tokenExpires);
        return decision;
      },
      (e: unknown) => {
        this.inflight.delete(key);
        throw e;
      }
    );
    this.inflight.set(key, p);
    return p;
  }

  private async ask(
    token: string
  ): Promise<{ decision: AuthDecision; tokenExpires: number | null }> {
    let answer: HubAnswer;
    try {
      answer = await this.options.fetchUser(token);
    } catch (e) {
      const msg =
        e instanceof HubUnavailableError ? e.message : 'hub not reachable';
      throw new DomainError(
        'upstream_unavailable',
        `Cannot check the token: JupyterHub does not answer (${msg}). Try again in a minute.`
      );
    }
    if (answer.status === 'rejected') {
      return {
        decision: { ok: false, reason: 'the hub does not know this token' },
        tokenExpires: null
      };
    }
    return {
      decision: decide(answer.body, this.options.policy),
      tokenExpires: expiryOf(answer.body)
    };
  }

  private remember(
    key: string,
    decision: AuthDecision,
    tokenExpires: number | null
  ): void {
    if (this.cache.size >= this.maxEntries) {
      const now = this.now();
      for (const [k, v] of this.cache) {
        if (v.expires <= now) {
          this.cache.delete(k);
        }
      }
      if (this.cache.size >= this.maxEntries) {
        this.cache.clear();
      }
    }
    const ttl = decision.ok ? this.positiveTtlMs : this.negativeTtlMs;
    let expires = this.now() + ttl;
    if (decision.ok && tokenExpires !== null) {
      expires = Math.min(expires, tokenExpires);
    }
    if (expires <= this.now()) {
      return;
    }
    this.cache.set(key, { decision, expires });
  }
}
