import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  aggregatePartitions,
  countGpus,
  nodeUsable,
  parsePartitionInfo,
  parseSlurmMinutes
} from '../../src/adapters/ssh/sinfo';
import { PartitionSchema } from '../../src/contract';

const FIXTURES = join(__dirname, '..', 'fixtures');
const fixture = (name: string): string =>
  readFileSync(join(FIXTURES, name), 'utf8');

/** Captured from the stack's SLURM 22.05.8: `sinfo --json` idle, and with one 1-CPU/1-GPU job running. */
const idle: unknown = JSON.parse(fixture('sinfo-idle.json'));
const mixed: unknown = JSON.parse(fixture('sinfo-mixed.json'));
const partitions = parsePartitionInfo(fixture('scontrol-partitions.txt'));

describe('scontrol partitions', () => {
  it('reads name, default flag, state and max time', () => {
    expect(partitions).toEqual([
      { name: 'cpu', default: true, state: 'up', maxTimeMinutes: null },
      { name: 'gpu', default: false, state: 'up', maxTimeMinutes: null }
    ]);
  });

  it('parses SLURM time limits', () => {
    expect(parseSlurmMinutes('UNLIMITED')).toBeNull();
    expect(parseSlurmMinutes('INFINITE')).toBeNull();
    expect(parseSlurmMinutes('30')).toBe(30);
    expect(parseSlurmMinutes('30:30')).toBe(31);
    expect(parseSlurmMinutes('02:00:00')).toBe(120);
    expect(parseSlurmMinutes('1-00:00:00')).toBe(1440);
    expect(parseSlurmMinutes('2-12')).toBe(2 * 1440 + 12 * 60);
    expect(parseSlurmMinutes('1-02:03')).toBe(1440 + 123);
    expect(() => parseSlurmMinutes('soon')).toThrow(/unrecognised/);
  });
});

describe('GRES', () => {
  it.each([
    ['gpu:fake:2', 2],
    ['gpu:fake:2(S:0)', 2],
    ['gpu:fake:0(IDX:N/A)', 0],
    ['gpu:fake:1(IDX:0)', 1],
    ['gpu:4', 4],
    ['gpu:a100:2(S:0-1),gpu:v100:1(S:1)', 3],
    ['gpu:a100:2(IDX:0,2),shard:8', 2],
    ['shard:8', 0],
    ['', 0],
    ['(null)', 0],
    ['N/A', 0]
  ])('%s has %i GPUs', (gres, n) => {
    expect(countGpus(gres)).toBe(n);
  });
});

describe('sinfo --json aggregation', () => {
  it('aggregates an idle node into both partitions', () => {
    const result = aggregatePartitions(idle, partitions);
    result.forEach(p => PartitionSchema.parse(p));
    expect(result).toEqual([
      {
        name: 'cpu',
        default: true,
        state: 'up',
        nodes: { total: 1, idle: 1 },
        cpus: { total: 2, idle: 2 },
        gpus: { total: 2, idle: 2 },
        maxTimeMinutes: null
      },
      {
        name: 'gpu',
        default: false,
        state: 'up',
        nodes: { total: 1, idle: 1 },
        cpus: { total: 2, idle: 2 },
        gpus: { total: 2, idle: 2 },
        maxTimeMinutes: null
      }
    ]);
  });

  it('counts allocated CPUs and GPUs of a mixed node', () => {
    const gpu = aggregatePartitions(mixed, partitions).find(
      p => p.name === 'gpu'
    );
    expect(gpu).toMatchObject({
      nodes: { total: 1, idle: 0 },
      cpus: { total: 2, idle: 1 },
      gpus: { total: 2, idle: 1 }
    });
  });

  it('gives no idle resources on drained or down nodes and marks the partition down', () => {
    const json = JSON.parse(fixture('sinfo-idle.json')) as {
      nodes: Record<string, unknown>[];
    };
    const node = json.nodes[0] as Record<string, unknown>;
    node.state_flags = ['DRAIN'];
    expect(nodeUsable({ state: 'idle', state_flags: ['DRAIN'] })).toBe(false);
    expect(nodeUsable({ state: 'down', state_flags: [] })).toBe(false);
    expect(nodeUsable({ state: 'mixed', state_flags: [] })).toBe(true);
    const cpu = aggregatePartitions(json, partitions)[0];
    expect(cpu).toMatchObject({
      state: 'down',
      nodes: { total: 1, idle: 0 },
      cpus: { total: 2, idle: 0 },
      gpus: { total: 2, idle: 0 }
    });
  });

  it('rejects output without nodes', () => {
    expect(() => aggregatePartitions({ meta: {} }, partitions)).toThrow();
  });
});
