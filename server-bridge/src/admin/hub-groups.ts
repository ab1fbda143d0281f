/**
 * The hub's groups and their members (`GET {hub}/groups`, scope `read:groups` of the
 * bridge's service role), for usage per group and course. Cached for a minute.
 */
import { z } from 'zod';

/** Group name → member names. */
export type GroupMembers = ReadonlyMap<string, readonly string[]>;
export type GroupDirectory = () => Promise<GroupMembers>;

const GroupSchema = z.looseObject({
  name: z.string(),
  users: z.array(z.string()).default([])
});
const PAGE = 200;
const TTL_MS = 60_000;

export function hubGroups(
  apiUrl: string,
  apiToken: string,
  timeoutMs = 15_000
): GroupDirectory {
  let cached: { at: number; groups: GroupMembers } | undefined;
  return async () => {
    if (cached !== undefined && Date.now() - cached.at < TTL_MS) {
      return cached.groups;
    }
    const groups = new Map<string, string[]>();
    for (let offset = 0; ; offset += PAGE) {
      const res = await fetch(
        `${apiUrl}/groups?offset=${offset}&limit=${PAGE}`,
        {
          headers: {
            authorization: `token ${apiToken}`,
            accept: 'application/json'
          },
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'manual'
        }
      );
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`the hub answered ${res.status} for its group list`);
      }
      const page = z.array(GroupSchema).parse(await res.json());
      for (const g of page) {
        groups.set(g.name, g.users);
      }
      if (page.length < PAGE) {
        break;
      }
    }
    cached = { at: Date.now(), groups };
    return groups;
  };
}
