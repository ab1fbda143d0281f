/**
 * The replica lifecycle's table of transitions, one transition at a time: from a state,
 * on an event, to the next state with the effects the controller performs.
 */
import type { ReplicaState } from '../../src/contract';
import {
  REPLICA_TRANSITIONS,
  type ReplicaEffect,
  type ReplicaEvent,
  transition
} from '../../src/endpoints/replica-lifecycle';

type Row = [ReplicaState, ReplicaEvent, ReplicaState, ReplicaEffect[]];

/** Events every active state answers alike (`state` where it stays). */
const common = (state: ReplicaState): Row[] => [
  [state, 'no-handle', 'failed', ['fail']],
  [state, 'provider-pending', state, ['record-detail']],
  [state, 'queued-too-long', 'stopped', ['fall-back']],
  [state, 'stop-asked', 'stopped', ['stop']],
  [state, 'lost-at-restart', 'stopped', ['mark-lost']]
];

/** How a replica that is not draining ends when its provider says it ended. */
const ends = (state: ReplicaState): Row[] => [
  [state, 'provider-gone', 'failed', ['fail']],
  [state, 'no-capacity', 'failed', ['fail-no-capacity']],
  [state, 'no-capacity-fallback', 'stopped', ['fall-back']],
  [state, 'time-limit-reached', 'stopped', ['mark-stopped-at-limit']]
];

const TRANSITIONS: Row[] = [
  ...common('pending'),
  ...ends('pending'),
  [
    'pending',
    'provider-running',
    'starting',
    ['record-running', 'clear-reason']
  ],
  ['pending', 'start-failed', 'failed', ['fail']],
  ['pending', 'model-missing', 'failed', ['fail-endpoint']],

  ...common('starting'),
  ...ends('starting'),
  ['starting', 'provider-running', 'starting', ['record-running']],
  ['starting', 'health-ok', 'ready', ['mark-ready']],
  ['starting', 'health-failed', 'starting', ['save']],
  ['starting', 'unhealthy', 'failed', ['fail']],

  ...common('ready'),
  ...ends('ready'),
  ['ready', 'provider-running', 'ready', ['record-running']],
  ['ready', 'health-ok', 'ready', ['health-passed', 'save']],
  ['ready', 'health-failed', 'ready', ['save']],
  ['ready', 'unhealthy', 'failed', ['fail']],
  ['ready', 'request-failed', 'ready', ['suspect']],
  ['ready', 'time-limit-near', 'ready', ['start-successor']],
  ['ready', 'drain-due', 'draining', ['drain']],

  ...common('draining'),
  ['draining', 'provider-running', 'draining', ['record-running']],
  ['draining', 'provider-gone', 'stopped', ['mark-stopped']],
  ['draining', 'no-capacity', 'stopped', ['mark-stopped']],
  ['draining', 'no-capacity-fallback', 'stopped', ['mark-stopped']],
  ['draining', 'time-limit-reached', 'stopped', ['mark-stopped']],
  ['draining', 'drained', 'stopped', ['stop']]
];

const STATES: ReplicaState[] = [
  'pending',
  'starting',
  'ready',
  'draining',
  'stopped',
  'failed'
];

const EVENTS: ReplicaEvent[] = [
  'no-handle',
  'provider-pending',
  'queued-too-long',
  'provider-running',
  'provider-gone',
  'no-capacity',
  'no-capacity-fallback',
  'time-limit-reached',
  'health-ok',
  'health-failed',
  'unhealthy',
  'request-failed',
  'start-failed',
  'model-missing',
  'time-limit-near',
  'drain-due',
  'drained',
  'stop-asked',
  'lost-at-restart'
];

describe('replica lifecycle: transitions', () => {
  it.each(TRANSITIONS)('%s + %s → %s, doing %j', (from, event, to, effects) => {
    expect(transition(from, event)).toEqual({ to, effects });
  });
});

describe('replica lifecycle: ignored events', () => {
  const listed = new Set(TRANSITIONS.map(([s, e]) => `${s} ${e}`));
  const ignored = STATES.flatMap(s =>
    EVENTS.filter(e => !listed.has(`${s} ${e}`)).map(
      e => [s, e] as [ReplicaState, ReplicaEvent]
    )
  );

  it.each(ignored)('%s ignores %s', (state, event) => {
    expect(transition(state, event)).toBeNull();
  });

  it('stopped and failed are final: no event leaves them', () => {
    for (const event of EVENTS) {
      expect(transition('stopped', event)).toBeNull();
      expect(transition('failed', event)).toBeNull();
    }
  });

  it('the table holds exactly the transitions above', () => {
    const cells = STATES.flatMap(s =>
      Object.keys(REPLICA_TRANSITIONS[s]).map(e => `${s} ${e}`)
    );
    expect(cells.sort()).toEqual([...listed].sort());
  });
});
