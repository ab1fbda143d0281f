/** Online checks of the hub: the bridge's token, and the groups the config names. */
import type { BridgeConfig } from './index';
import {
  failed,
  networkReason,
  ok,
  type IOnlineOptions,
  type Probe,
  type IOnlineFinding
} from './online-findings';

async function hubGet(
  config: BridgeConfig,
  path: string,
  timeoutMs: number
): Promise<Response> {
  return fetch(`${config.hub.apiUrl}${path}`, {
    headers: {
      authorization: `token ${config.hub.apiToken.reveal()}`,
      accept: 'application/json'
    },
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs)
  });
}

/** Groups only when the hub accepted the token: else the hub's failure says it all. */
export async function checkHubAndGroups(
  config: BridgeConfig,
  options: IOnlineOptions
): Probe {
  const hub = await checkHub(config, options);
  return hub.every(f => f.status === 'ok')
    ? [...hub, ...(await checkGroups(config, options))]
    : hub;
}

/** The bridge's token must resolve at the hub (GET /user → the token's owner). */
async function checkHub(
  config: BridgeConfig,
  { timeoutMs }: IOnlineOptions
): Probe {
  const url = config.hub.apiUrl;
  let res: Response;
  try {
    res = await hubGet(config, '/user', timeoutMs);
  } catch (e) {
    return [
      failed(
        'hub',
        'hub.apiUrl',
        `cannot reach the hub API at ${url}: ${networkReason(e, timeoutMs)}`
      )
    ];
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) {
    return [
      failed(
        'hub',
        'hub.apiToken',
        `the hub at ${url} refused the bridge's API token (${res.status}, from ${config.hub.apiToken.source}): use the api_token of the hub's "${config.hub.serviceName}" service`
      )
    ];
  }
  let who: { kind?: unknown; name?: unknown } = {};
  try {
    who = JSON.parse(text) as typeof who;
  } catch {
    // reported below
  }
  if (!res.ok || typeof who.name !== 'string') {
    return [
      failed(
        'hub',
        'hub.apiUrl',
        `${url}/user answered ${res.status} without a hub user or service: is this the hub's API URL (…/hub/api)?`
      )
    ];
  }
  return [
    ok(
      'hub',
      'hub.apiToken',
      `${url}: the token is ${String(who.kind)} ${who.name}`
    )
  ];
}

/** The hub groups the config names: tiers' read/write lists and the admin group. */
export function namedGroups(config: BridgeConfig): Map<string, string> {
  const groups = new Map<string, string>();
  config.storage.tiers.forEach((t, i) => {
    for (const key of ['read', 'write'] as const) {
      t[key].forEach((g, j) => {
        if (g !== '*' && !groups.has(g)) {
          groups.set(g, `storage.tiers[${i}].${key}[${j}]`);
        }
      });
    }
  });
  if (config.roles.adminGroup !== null) {
    groups.set(config.roles.adminGroup, 'roles.adminGroup');
  }
  return groups;
}

/** Groups the hub does not know are warnings: an admin may create them later. */
async function checkGroups(
  config: BridgeConfig,
  { timeoutMs }: IOnlineOptions
): Probe {
  const groups = namedGroups(config);
  const out: IOnlineFinding[] = [];
  const found: string[] = [];
  for (const [group, path] of groups) {
    let status: number;
    try {
      const res = await hubGet(
        config,
        `/groups/${encodeURIComponent(group)}`,
        timeoutMs
      );
      await res.body?.cancel();
      status = res.status;
    } catch (e) {
      out.push({
        status: 'warning',
        check: 'groups',
        path,
        message: `could not look up the hub group "${group}": ${networkReason(e, timeoutMs)}`
      });
      continue;
    }
    if (status === 404) {
      out.push({
        status: 'warning',
        check: 'groups',
        path,
        message: `the hub has no group "${group}"`
      });
    } else if (status === 403 || status === 401) {
      return [
        {
          status: 'warning',
          check: 'groups',
          path: 'hub.apiToken',
          message: `cannot read the hub's groups (${status}): give the bridge's service the read:groups scope`
        }
      ];
    } else if (status === 200) {
      found.push(group);
    }
  }
  if (found.length > 0) {
    out.unshift(
      ok('groups', 'hub', `the hub has the groups ${found.join(', ')}`)
    );
  }
  return out;
}
