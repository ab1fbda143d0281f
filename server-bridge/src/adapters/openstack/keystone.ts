/**
 * Keystone v3 with plain fetch: a project-scoped token from an application credential
 * (the standard for services) or a password, cached until shortly before it expires,
 * and the service catalog it comes with. `request` adds the token, and logs in again once
 * when a service answers 401 (a revoked or expired token).
 */
import { z } from 'zod';
import type { OpenStackConfig, Secret } from '../../config';
import {
  apiMessage,
  CloudError,
  cloudErrorOf,
  scrub,
  unreachable
} from './errors';

export type KeystoneCredentials =
  | { applicationCredential: { id: string; secret: Secret } }
  | {
      password: {
        username: string;
        password: Secret;
        projectName: string;
        userDomainName: string;
        projectDomainName: string;
      };
    };

export interface IKeystoneOptions {
  /** Cloud name for messages (the provider's title). */
  cloud: string;
  /** `…/v3` (added when missing). */
  authUrl: string;
  region: string;
  credentials: KeystoneCredentials;
  /** Renew a token this long before it expires; default 120 s. */
  renewBeforeMs?: number;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

const TokenBodySchema = z.object({
  token: z.object({
    expires_at: z.string(),
    catalog: z
      .array(
        z.object({
          type: z.string(),
          endpoints: z.array(
            z.object({
              interface: z.string(),
              region: z.string().nullish(),
              region_id: z.string().nullish(),
              url: z.string()
            })
          )
        })
      )
      .default([]),
    project: z.object({ id: z.string() }).optional()
  })
});

interface IToken {
  value: string;
  expiresAt: number;
  catalog: z.infer<typeof TokenBodySchema>['token']['catalog'];
  projectId: string | null;
}

export function v3Url(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? base : `${base}/v3`;
}

/** The body of POST /v3/auth/tokens. */
export function authBody(credentials: KeystoneCredentials): unknown {
  if ('applicationCredential' in credentials) {
    const c = credentials.applicationCredential;
    return {
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: c.id, secret: c.secret.reveal() }
        }
      }
    };
  }
  const p = credentials.password;
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: {
            name: p.username,
            domain: { name: p.userDomainName },
            password: p.password.reveal()
          }
        }
      },
      scope: {
        project: { name: p.projectName, domain: { name: p.projectDomainName } }
      }
    }
  };
}

export class Keystone {
  private token: IToken | null = null;
  private pending: Promise<IToken> | null = null;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: IKeystoneOptions) {
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  get cloud(): string {
    return this.options.cloud;
  }

  /** Strings that must never leave the bridge (for `scrub`). */
  secrets(): string[] {
    const c = this.options.credentials;
    const own =
      'applicationCredential' in c
        ? [c.applicationCredential.secret.reveal()]
        : [c.password.password.reveal()];
    return this.token === null ? own : [...own, this.token.value];
  }

  /** Forgets the token: the next call logs in again. */
  invalidate(): void {
    this.token = null;
  }

  private async valid(): Promise<IToken> {
    const t = this.token;
    if (
      t !== null &&
      this.now() < t.expiresAt - (this.options.renewBeforeMs ?? 120_000)
    ) {
      return t;
    }
    this.pending ??= this.login().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async login(): Promise<IToken> {
    const url = `${v3Url(this.options.authUrl)}/auth/tokens`;
    let res: Response;
    try {
      res = await this.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(authBody(this.options.credentials)),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000)
      });
    } catch (e) {
      throw unreachable(this.cloud, url, e);
    }
    const text = await res.text();
    if (!res.ok) {
      const message = scrub(apiMessage(text), this.secrets());
      throw cloudErrorOf(
        this.cloud,
        'log in',
        res.status === 404 ? 401 : res.status,
        message
      );
    }
    const value = res.headers.get('x-subject-token');
    const parsed = TokenBodySchema.safeParse(JSON.parse(text));
    if (value === null || !parsed.success) {
      throw new CloudError(
        'other',
        `The cloud ${this.cloud} answered the login without a usable token`
      );
    }
    const token: IToken = {
      value,
      expiresAt: Date.parse(parsed.data.token.expires_at),
      catalog: parsed.data.token.catalog,
      projectId: parsed.data.token.project?.id ?? null
    };
    this.token = token;
    return token;
  }

  /** The public URL of a service type (`compute`, `image`, `network`) in the region. */
  async endpoint(type: string): Promise<string> {
    return this.endpointIn(await this.valid(), type);
  }

  private endpointIn(t: IToken, type: string): string {
    const service = t.catalog.find(s => s.type === type);
    const ep = service?.endpoints.find(
      e =>
        e.interface === 'public' &&
        (e.region_id === this.options.region ||
          e.region === this.options.region)
    );
    if (ep === undefined) {
      throw new CloudError(
        'bad_request',
        `The cloud ${this.cloud} has no public ${type} endpoint in region ${this.options.region}: check the region in the bridge's configuration`
      );
    }
    return ep.url.replace(/\/+$/, '');
  }

  async projectId(): Promise<string | null> {
    return (await this.valid()).projectId;
  }

  /**
   * A call to a service of the catalog with the token; `path` is relative to the
   * service's URL. On 401 it logs in once more and retries.
   */
  async request(
    type: string,
    path: string,
    init: {
      method?: string;
      body?: unknown;
      headers?: Record<string, string>;
    } = {}
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const t = await this.valid();
      const url = `${this.endpointIn(t, type)}${path}`;
      let res: Response;
      try {
        res = await this.fetch(url, {
          method: init.method ?? 'GET',
          headers: {
            accept: 'application/json',
            ...(init.body === undefined
              ? {}
              : { 'content-type': 'application/json' }),
            ...init.headers,
            'x-auth-token': t.value
          },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000)
        });
      } catch (e) {
        throw unreachable(this.cloud, url, e);
      }
      if (res.status === 401 && attempt === 0) {
        await res.arrayBuffer().catch(() => undefined);
        if (this.token === t) {
          this.token = null;
        }
        continue;
      }
      return res;
    }
  }
}

/** Keystone for the configured cloud: its application credential, else its password. */
export function keystoneFor(
  cloud: OpenStackConfig,
  timeoutMs?: number
): Keystone {
  const auth = cloud.auth;
  return new Keystone({
    cloud: cloud.title,
    authUrl: cloud.authUrl,
    region: cloud.region,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    credentials:
      auth.applicationCredential !== undefined
        ? {
            applicationCredential: {
              id: auth.applicationCredential.id.reveal(),
              secret: auth.applicationCredential.secret
            }
          }
        : {
            password: {
              ...auth.password,
              username: auth.password.username.reveal()
            }
          }
  });
}
