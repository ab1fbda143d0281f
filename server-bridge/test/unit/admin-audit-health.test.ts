/** Audit search and CSV export; the health history's samples and retention. */
import { auditCsv, csvField } from '../../src/admin/audit-search';
import { testStore } from './test-store';
import { searchAudit } from '../../src/admin/repository/audit';
import {
  HealthHistory,
  HealthSampler,
  RETENTION_MS
} from '../../src/admin/health-history';
import type { AuditRecord } from '../../src/contract';
import { Store } from '../../src/store';
import { parseCsv } from './admin-helpers';

describe('CSV quoting', () => {
  it('quotes fields with commas, quotes and line breaks, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
  });

  it('exports records that parse back to the same fields', () => {
    const records: AuditRecord[] = [
      {
        id: 2,
        ts: '2026-03-01T10:00:00.000Z',
        user: 'alice',
        action: 'storage.read',
        target: 'sensitive:medical/a, "b"\nc.csv',
        details: { outcome: 'ok', bytes: 3 }
      },
      {
        id: 1,
        ts: '2026-03-01T09:00:00.000Z',
        user: 'bob',
        action: 'storage.write',
        target: 'scratch:=HYPERLINK("x")',
        details: { outcome: 'refused' }
      }
    ];
    const rows = parseCsv(auditCsv(records));
    expect(rows).toEqual([
      ['id', 'ts', 'user', 'action', 'target', 'outcome', 'details'],
      [
        '2',
        '2026-03-01T10:00:00.000Z',
        'alice',
        'storage.read',
        'sensitive:medical/a, "b"\nc.csv',
        'ok',
        '{"outcome":"ok","bytes":3}'
      ],
      [
        '1',
        '2026-03-01T09:00:00.000Z',
        'bob',
        'storage.write',
        'scratch:=HYPERLINK("x")',
        'refused',
        '{"outcome":"refused"}'
      ]
    ]);
  });

  it('keeps a target that starts like a formula inert', () => {
    const csv = auditCsv([
      {
        id: 1,
        ts: '2026-03-01T09:00:00.000Z',
        user: '@evil',
        action: 'storage.read',
        target: '=cmd',
        details: {}
      }
    ]);
    expect(parseCsv(csv)[1]?.slice(2, 5)).toEqual([
      "'@evil",
      'storage.read',
      "'=cmd"
    ]);
  });
});

describe('audit search', () => {
  let store: Store;
  beforeEach(() => {
    store = testStore();
    const add = (
      user: string,
      action: string,
      target: string,
      outcome: string
    ) => store.audit({ user, action, target, details: { outcome } });
    add('alice', 'storage.read', 'sensitive:medical/scan_1.csv', 'ok');
    add('bob', 'storage.read', 'sensitive:medical/scan_1.csv', 'refused');
    add('alice', 'storage.write', 'scratch:notes/scan_1.csv', 'ok');
    add('alice', 'endpoint.create', 'ep-1', 'ok');
    add('alice', 'storage.read', 'sensitive:medical/scan%1.csv', 'ok');
  });
  afterEach(() => store.close());

  const targets = (f: Parameters<typeof searchAudit>[1]) =>
    searchAudit(store, f).map(r => `${r.user} ${r.action} ${r.target}`);

  it('combines user, tier, path, action and outcome', () => {
    expect(
      targets({ tier: 'sensitive', path: 'scan_1', user: 'alice', limit: 10 })
    ).toEqual(['alice storage.read sensitive:medical/scan_1.csv']);
    expect(targets({ path: 'scan_1', limit: 10 })).toHaveLength(3);
    expect(targets({ outcome: 'refused', limit: 10 })).toEqual([
      'bob storage.read sensitive:medical/scan_1.csv'
    ]);
    expect(targets({ action: 'endpoint.', limit: 10 })).toEqual([
      'alice endpoint.create ep-1'
    ]);
  });

  it('treats % and _ in a search as plain characters', () => {
    expect(targets({ path: 'scan%1', limit: 10 })).toEqual([
      'alice storage.read sensitive:medical/scan%1.csv'
    ]);
  });

  it('filters by time, inclusive', () => {
    const all = searchAudit(store, { limit: 10 });
    const newest = all[0];
    expect(newest).toBeDefined();
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(searchAudit(store, { since: future, limit: 10 })).toEqual([]);
    expect(
      searchAudit(store, { until: newest?.ts ?? '', limit: 10 })
    ).toHaveLength(5);
  });
});

describe('health history', () => {
  let store: Store;
  const clock = { now: Date.parse('2026-03-10T12:00:00Z') };
  beforeEach(() => {
    store = testStore();
  });
  afterEach(() => store.close());

  it('keeps samples for 7 days and answers the requested hours per backend', () => {
    const history = new HealthHistory(store, () => clock.now);
    const start = clock.now;
    clock.now = start - RETENTION_MS - 60_000;
    history.record([{ name: 'hub', kind: 'hub', status: 'ok', latencyMs: 3 }]);
    clock.now = start - 2 * 3600_000;
    history.record([
      { name: 'hub', kind: 'hub', status: 'ok', latencyMs: 4 },
      {
        name: 'cluster:demo',
        kind: 'cluster',
        status: 'down',
        latencyMs: 15000,
        detail: 'ssh: connection refused'
      }
    ]);
    clock.now = start;
    history.record([
      { name: 'hub', kind: 'hub', status: 'down', latencyMs: 5, detail: 'x' },
      { name: 'cluster:demo', kind: 'cluster', status: 'ok', latencyMs: 40 }
    ]);
    const count = store.db
      .prepare('SELECT COUNT(*) AS n FROM health_samples')
      .get() as { n: number };
    expect(count.n).toBe(4);

    const day = history.series(24);
    expect(
      day.backends.map(b => [b.name, b.samples.length, b.okRatio])
    ).toEqual([
      ['cluster:demo', 2, 0.5],
      ['hub', 2, 0.5]
    ]);
    expect(day.backends[0]?.samples[0]).toEqual({
      ts: new Date(start - 2 * 3600_000).toISOString(),
      status: 'down',
      latencyMs: 15000,
      detail: 'ssh: connection refused'
    });
    expect(history.series(1).backends.map(b => b.samples.length)).toEqual([
      1, 1
    ]);
  });

  it('samples through the checks and records what they answer', async () => {
    const history = new HealthHistory(store, () => clock.now);
    const sampler = new HealthSampler({
      history,
      check: async () => [
        { name: 's3:demo', kind: 's3', status: 'ok', latencyMs: 7 }
      ]
    });
    await sampler.sampleNow();
    await sampler.stop();
    expect(history.series(1).backends).toEqual([
      {
        name: 's3:demo',
        okRatio: 1,
        samples: [
          {
            ts: new Date(clock.now).toISOString(),
            status: 'ok',
            latencyMs: 7,
            detail: null
          }
        ]
      }
    ]);
  });

  it('reports a failed round of checks and records nothing', async () => {
    const errors: unknown[] = [];
    const history = new HealthHistory(store, () => clock.now);
    const sampler = new HealthSampler({
      history,
      check: async () => {
        throw new Error('boom');
      },
      onError: e => errors.push(e)
    });
    await sampler.sampleNow();
    expect(errors).toHaveLength(1);
    expect(history.series(1).backends).toEqual([]);
  });
});
