/** Cron expressions and the sources that go by the clock: schedule and endpoint.idle. */
import { DomainError } from '../../src/domain-error';
import { latestDue, parseCron } from '../../src/triggers/cron';
import { EndpointIdleSource } from '../../src/triggers/sources/endpoint-idle';
import { ScheduleSource } from '../../src/triggers/sources/schedule';
import { ALICE } from './trigger-fakes';

const due = (expr: string, at: string): string | undefined =>
  latestDue(parseCron(expr), new Date(at))?.toISOString();

describe('cron', () => {
  it('finds the latest due minute for stars, lists, ranges and steps', () => {
    expect(due('* * * * *', '2026-01-10T12:34:56Z')).toBe(
      '2026-01-10T12:34:00.000Z'
    );
    expect(due('*/15 * * * *', '2026-01-10T12:34:56Z')).toBe(
      '2026-01-10T12:30:00.000Z'
    );
    expect(due('0,45 8-10 * * *', '2026-01-10T12:00:00Z')).toBe(
      '2026-01-10T10:45:00.000Z'
    );
    expect(due('10-50/20 * * * *', '2026-01-10T12:09:00Z')).toBe(
      '2026-01-10T11:50:00.000Z'
    );
    expect(due('0 2 * * *', '2026-01-10T01:00:00Z')).toBe(
      '2026-01-09T02:00:00.000Z'
    );
  });

  it('reads day-of-week 0 and 7 as Sunday, and either day field when both are set', () => {
    // 2026-01-10 is a Saturday; the Sunday before is 2026-01-04.
    expect(due('0 0 * * 7', '2026-01-10T12:00:00Z')).toBe(
      '2026-01-04T00:00:00.000Z'
    );
    expect(due('0 0 * * 0', '2026-01-10T12:00:00Z')).toBe(
      '2026-01-04T00:00:00.000Z'
    );
    // The 9th (a Friday) matches day-of-month although Monday does not.
    expect(due('0 0 9 * 1', '2026-01-10T12:00:00Z')).toBe(
      '2026-01-09T00:00:00.000Z'
    );
  });

  it.each([
    ['* * * *', /five fields/],
    ['60 * * * *', /minute "60": 60 is out of range/],
    ['* 24 * * *', /hour/],
    ['* * 0 * *', /day-of-month/],
    ['* * * 13 *', /month/],
    ['5-1 * * * *', /runs backwards/],
    ['*/0 * * * *', /out of range/],
    ['a * * * *', /not a number/],
    ['1,,2 * * * *', /expected a value/],
    ['0 0 31 2 *', /never due/]
  ])('refuses "%s" with a clear message', (expr, message) => {
    expect(() => parseCron(expr)).toThrow(DomainError);
    expect(() => parseCron(expr)).toThrow(message);
  });
});

describe('schedule source', () => {
  const source = new ScheduleSource();
  const rule = { kind: 'schedule' as const, cron: '*/10 * * * *' };

  it('does not fire the minute due at creation, then fires each new due minute once', async () => {
    const cursor = await source.baseline(
      ALICE,
      rule,
      new Date('2026-01-10T12:00:30Z')
    );
    const early = await source.scan({
      source: rule,
      owner: ALICE,
      cursor,
      now: new Date('2026-01-10T12:09:59Z')
    });
    expect(early.events).toEqual([]);
    const next = await source.scan({
      source: rule,
      owner: ALICE,
      cursor: early.cursor,
      now: new Date('2026-01-10T12:10:05Z')
    });
    expect(next.events).toEqual([
      {
        key: 'schedule:2026-01-10T12:10:00.000Z',
        event: { kind: 'schedule', due: '2026-01-10T12:10:00.000Z' }
      }
    ]);
    const again = await source.scan({
      source: rule,
      owner: ALICE,
      cursor: next.cursor,
      now: new Date('2026-01-10T12:11:00Z')
    });
    expect(again.events).toEqual([]);
  });

  it('fires the slots missed while the bridge was down once: the latest', async () => {
    const cursor = await source.baseline(
      ALICE,
      rule,
      new Date('2026-01-10T12:00:00Z')
    );
    const after = await source.scan({
      source: rule,
      owner: ALICE,
      cursor,
      now: new Date('2026-01-10T15:47:00Z')
    });
    expect(after.events.map(e => e.event.due)).toEqual([
      '2026-01-10T15:40:00.000Z'
    ]);
  });
});

describe('endpoint.idle source', () => {
  const rule = {
    kind: 'endpoint.idle' as const,
    endpoint: 'ep1',
    idleMinutes: 30
  };

  it('fires once per idle period, counted from the last request', async () => {
    let last: Date | null = null;
    const source = new EndpointIdleSource(() => last);
    const scan = (cursor: unknown, at: string) =>
      source.scan({ source: rule, owner: ALICE, cursor, now: new Date(at) });
    const cursor = await source.baseline(
      ALICE,
      rule,
      new Date('2026-01-10T12:00:00Z')
    );
    expect((await scan(cursor, '2026-01-10T12:29:00Z')).events).toEqual([]);
    const idle = await scan(cursor, '2026-01-10T12:31:00Z');
    expect(idle.events.map(e => e.key)).toEqual([
      'idle:ep1:2026-01-10T12:00:00.000Z'
    ]);
    // The same period keeps its key (recorded once); a request starts a new one.
    expect((await scan(cursor, '2026-01-10T13:00:00Z')).events[0]?.key).toBe(
      idle.events[0]?.key
    );
    last = new Date('2026-01-10T13:05:00Z');
    expect((await scan(cursor, '2026-01-10T13:20:00Z')).events).toEqual([]);
    expect((await scan(cursor, '2026-01-10T13:36:00Z')).events[0]?.key).toBe(
      'idle:ep1:2026-01-10T13:05:00.000Z'
    );
  });
});
