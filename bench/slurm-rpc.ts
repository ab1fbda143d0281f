/** slurmctld RPC counters from `sdiag` (run locally as root on the stack's controller). */
import { execFileSync } from 'node:child_process';

/** Total RPCs slurmctld has served per message type since its counters were reset. */
export function rpcCounts(): Map<string, number> {
  const out = execFileSync('sdiag', [], { encoding: 'utf8' });
  const section =
    out.split('Remote Procedure Call statistics by message type')[1] ?? '';
  const byType = section.split('Remote Procedure Call statistics by user')[0];
  const counts = new Map<string, number>();
  for (const match of byType.matchAll(
    /^\s*(\w+)\s+\(\s*\d+\)\s+count:(\d+)/gm
  )) {
    counts.set(match[1], Number(match[2]));
  }
  return counts;
}

/** RPCs served between two `rpcCounts()` readings, all types together. */
export function rpcDelta(
  before: Map<string, number>,
  after: Map<string, number>
): number {
  let total = 0;
  for (const [type, count] of after) {
    total += count - (before.get(type) ?? 0);
  }
  return total;
}
