/**
 * The bridge replicas of the stack's production shape (`./stack/up --replicas N`): their
 * stack/ctl names, ports and pids, and which one leads.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AdminHealthSchema, Routes } from '../../src/contract';
import { STACK_DIR } from '../integration/stack';

const PREFIX = '/services/hpc-bridge';

export interface IReplica {
  name: `bridge-${number}`; // for stack/ctl
  port: number;
  pid: string;
}

/** The replicas the stack started (a pid file each), in port order. */
export function stackReplicas(): IReplica[] {
  return readdirSync(join(STACK_DIR, 'run'))
    .filter(f => /^bridge-\d+\.pid$/.test(f))
    .map(f => {
      const n = Number(/\d+/.exec(f)?.[0]);
      return {
        name: `bridge-${n}` as const,
        port: 8765 + n,
        pid: readFileSync(join(STACK_DIR, 'run', f), 'utf8').trim()
      };
    })
    .sort((a, b) => a.port - b.port);
}

/** The leader's id as the replica on `port` sees it (ids are host:pid). */
export async function leaderSeenBy(
  port: number,
  adminToken: string
): Promise<string | null> {
  const res = await fetch(
    `http://127.0.0.1:${port}${PREFIX}${Routes.adminHealth}`,
    { headers: { Authorization: `token ${adminToken}` } }
  );
  if (res.status !== 200) {
    return null;
  }
  return AdminHealthSchema.parse(await res.json()).replicas?.leader ?? null;
}

/** The replica whose pid the leader id names, if it is one of `replicas`. */
export function replicaOf(
  replicas: readonly IReplica[],
  id: string | null
): IReplica | undefined {
  return replicas.find(r => id?.endsWith(`:${r.pid}`));
}
