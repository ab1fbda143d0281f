/**
 * Endpoints a job declares it calls through the gateway: checked at submit (the user's
 * own endpoints only), a key per endpoint made for the job and revoked when it ends, and
 * the variables the job sees. The keys travel in a 0600 file of the job's 0700 working
 * directory that the batch script sources, never in the script or a command line.
 */
import type { IAuthUser } from '../auth/decide';
import type { JobEndpoint } from '../contract';
import { DomainError } from '../domain-error';

/** The file in the job's working directory that holds the keys. */
export const ENDPOINTS_ENV_FILE = 'endpoints.env';

/** What the jobs need of the serving side (implemented in src/endpoints/job-keys.ts). */
export interface IJobEndpoints {
  /** The user's endpoints named by `refs` (names or ids); 404 unseen, 403 not their own. */
  resolve(user: IAuthUser, refs: readonly string[]): JobEndpoint[];
  /** Makes a key per endpoint for job `jobId`; the key of each endpoint id. */
  mint(
    user: IAuthUser,
    jobId: string,
    endpoints: readonly JobEndpoint[]
  ): Map<string, string>;
  /** Revokes the job's keys (idempotent). */
  revoke(jobId: string): void;
  /** The gateway's URL as users reach it. */
  readonly gatewayUrl: string;
}

/** `llm-demo` → `LLM_DEMO`: the stem of an endpoint's variables. */
export function envStem(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** The declared endpoints of a request; 400 when this bridge serves none. */
export function resolveJobEndpoints(
  port: IJobEndpoints | undefined,
  user: IAuthUser,
  refs: readonly string[] | undefined
): JobEndpoint[] {
  if (refs === undefined) {
    return [];
  }
  if (port === undefined) {
    throw new DomainError(
      'bad_request',
      'This bridge serves no endpoints, so a job cannot declare any'
    );
  }
  const endpoints = port.resolve(user, refs);
  const stems = new Map<string, string>();
  for (const ep of endpoints) {
    const other = stems.get(ep.env);
    if (other !== undefined) {
      throw new DomainError(
        'bad_request',
        other === ep.name
          ? `Endpoint ${ep.name} is declared twice`
          : `Endpoints ${other} and ${ep.name} would share the variables HPCB_ENDPOINT_${ep.env}_*; declare one of them`,
        { field: 'endpoints' }
      );
    }
    stems.set(ep.env, ep.name);
  }
  return endpoints;
}

/**
 * What the job sees: `HPCB_ENDPOINT_<NAME>_URL`/`_KEY` per endpoint and, for the first,
 * `OPENAI_BASE_URL`/`OPENAI_API_KEY` (the official clients read them).
 */
export function jobEndpointEnv(
  gatewayUrl: string,
  endpoints: readonly JobEndpoint[],
  keys: ReadonlyMap<string, string>
): Record<string, string> {
  const env: Record<string, string> = {};
  endpoints.forEach((ep, i) => {
    const key = keys.get(ep.id);
    if (key === undefined) {
      throw new DomainError('internal', `no job key for endpoint ${ep.id}`);
    }
    if (i === 0) {
      env.OPENAI_BASE_URL = gatewayUrl;
      env.OPENAI_API_KEY = key;
    }
    env[`HPCB_ENDPOINT_${ep.env}_URL`] = gatewayUrl;
    env[`HPCB_ENDPOINT_${ep.env}_KEY`] = key;
  });
  return env;
}

/** The keys of a job being submitted: made before the submit, revoked if it fails. */
export class JobKeysMinted {
  private constructor(
    private readonly port: IJobEndpoints | undefined,
    private readonly jobId: string,
    /** The variables of the secrets file; null when the job declares no endpoint. */
    readonly env: Record<string, string> | null
  ) {}

  static mint(
    port: IJobEndpoints | undefined,
    user: IAuthUser,
    jobId: string,
    endpoints: readonly JobEndpoint[]
  ): JobKeysMinted {
    if (port === undefined || endpoints.length === 0) {
      return new JobKeysMinted(port, jobId, null);
    }
    const keys = port.mint(user, jobId, endpoints);
    return new JobKeysMinted(
      port,
      jobId,
      jobEndpointEnv(port.gatewayUrl, endpoints, keys)
    );
  }

  /** The submit failed: the keys must not outlive it. */
  revoke(): void {
    if (this.env !== null) {
      this.port?.revoke(this.jobId);
    }
  }
}
