/**
 * Parsing of SLURM's `sinfo --json` (22.05, data_parser v0.0.38) and
 * `scontrol show partition --oneliner`, aggregated into the contract's partitions.
 *
 * `sinfo --json` in 22.05 lists nodes only (no partition objects), so partition
 * metadata (default flag, state, max time, node list order) comes from scontrol.
 */
import { z } from 'zod';
import type { Partition } from '../../contract';

/** The node fields we use; SLURM adds many more. */
export const SinfoNodeSchema = z.looseObject({
  name: z.string(),
  state: z.string(),
  state_flags: z.array(z.string()).default([]),
  cpus: z.number().int().nonnegative(),
  alloc_cpus: z.number().int().nonnegative().default(0),
  gres: z.string().default(''),
  gres_used: z.string().default(''),
  partitions: z.array(z.string()).default([])
});
export type SinfoNode = z.infer<typeof SinfoNodeSchema>;

export const SinfoSchema = z.looseObject({
  errors: z.array(z.unknown()).default([]),
  nodes: z.array(SinfoNodeSchema)
});

export interface IPartitionInfo {
  name: string;
  default: boolean;
  state: string;
  maxTimeMinutes: number | null;
}

const UNUSABLE_STATES = new Set([
  'down',
  'error',
  'future',
  'unknown',
  'invalid'
]);
const UNUSABLE_FLAGS = new Set([
  'DRAIN',
  'DRAINED',
  'DRAINING',
  'FAIL',
  'NOT_RESPONDING',
  'MAINTENANCE',
  'POWERED_DOWN'
]);

/** True when a node can run new work (not down, draining, failing, …). */
export function nodeUsable(
  node: Pick<SinfoNode, 'state' | 'state_flags'>
): boolean {
  return (
    !UNUSABLE_STATES.has(node.state.toLowerCase()) &&
    !node.state_flags.some(f => UNUSABLE_FLAGS.has(f.toUpperCase()))
  );
}

/** Splits a GRES list on commas outside parentheses: `gpu:a:1(IDX:0,2),gpu:b:1` → 2 entries. */
function splitGres(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') {
      depth += 1;
    } else if (ch === ')') {
      depth = Math.max(0, depth - 1);
    }
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts
    .map(p => p.trim())
    .filter(p => p !== '' && p !== 'N/A' && p !== '(null)');
}

/**
 * Counts GPUs in a GRES string such as `gpu:fake:2`, `gpu:fake:2(S:0)`,
 * `gpu:fake:0(IDX:N/A)`, `gpu:4` or `gpu:a100:2(S:0),gpu:v100:1(S:1),shard:8`.
 */
export function countGpus(gres: string): number {
  let total = 0;
  for (const entry of splitGres(gres)) {
    const spec = entry.split('(')[0] ?? '';
    const fields = spec.split(':');
    if (fields[0] !== 'gpu' || fields.length < 2) {
      continue;
    }
    const count = Number(fields[fields.length - 1]);
    if (Number.isInteger(count) && count >= 0) {
      total += count;
    }
  }
  return total;
}

/** SLURM time limits (`UNLIMITED`, `30`, `1:30:00`, `2-00:00:00`, `2-12`) → minutes; null when unlimited. */
export function parseSlurmMinutes(text: string): number | null {
  const t = text.trim();
  if (t === '' || /^(UNLIMITED|INFINITE|NONE)$/i.test(t)) {
    return null;
  }
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(t);
  if (m === null) {
    throw new Error(`unrecognised SLURM time "${text}"`);
  }
  const [, d, a, b, c] = m;
  const days = d === undefined ? 0 : Number(d);
  let seconds: number;
  if (d !== undefined) {
    // days-hours[:minutes[:seconds]]
    seconds = Number(a) * 3600 + Number(b ?? 0) * 60 + Number(c ?? 0);
  } else if (c !== undefined) {
    seconds = Number(a) * 3600 + Number(b) * 60 + Number(c);
  } else if (b !== undefined) {
    // minutes:seconds
    seconds = Number(a) * 60 + Number(b);
  } else {
    seconds = Number(a) * 60;
  }
  return days * 24 * 60 + Math.ceil(seconds / 60);
}

/** Parses `scontrol show partition --oneliner`: one `Key=Value …` line per partition. */
export function parsePartitionInfo(text: string): IPartitionInfo[] {
  const out: IPartitionInfo[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      continue;
    }
    const fields = new Map<string, string>();
    for (const m of line.matchAll(/(\w+)=(\S*)/g)) {
      fields.set(m[1] ?? '', m[2] ?? '');
    }
    const name = fields.get('PartitionName');
    if (name === undefined || name === '') {
      throw new Error(`unexpected scontrol line: ${line.slice(0, 80)}`);
    }
    out.push({
      name,
      default: fields.get('Default') === 'YES',
      state: (fields.get('State') ?? 'unknown').toLowerCase(),
      maxTimeMinutes: parseSlurmMinutes(fields.get('MaxTime') ?? 'UNLIMITED')
    });
  }
  return out;
}

/** Aggregates sinfo's nodes per partition, in the order scontrol lists partitions. */
export function aggregatePartitions(
  sinfoJson: unknown,
  infos: readonly IPartitionInfo[]
): Partition[] {
  const sinfo = SinfoSchema.parse(sinfoJson);
  return infos.map(info => {
    const nodes = sinfo.nodes.filter(n => n.partitions.includes(info.name));
    const usable = nodes.filter(nodeUsable);
    const sum = (
      xs: readonly SinfoNode[],
      f: (n: SinfoNode) => number
    ): number => xs.reduce((acc, n) => acc + f(n), 0);
    const state =
      info.state === 'up' && nodes.length > 0 && usable.length === 0
        ? 'down'
        : info.state;
    return {
      name: info.name,
      default: info.default,
      state,
      nodes: {
        total: nodes.length,
        idle: usable.filter(n => n.state.toLowerCase() === 'idle').length
      },
      cpus: {
        total: sum(nodes, n => n.cpus),
        idle: sum(usable, n => Math.max(0, n.cpus - n.alloc_cpus))
      },
      gpus: {
        total: sum(nodes, n => countGpus(n.gres)),
        idle: sum(usable, n =>
          Math.max(0, countGpus(n.gres) - countGpus(n.gres_used))
        )
      },
      maxTimeMinutes: info.maxTimeMinutes
    };
  });
}
