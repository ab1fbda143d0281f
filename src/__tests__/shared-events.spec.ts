/**
 * @jest-environment node
 */
import type { BridgeEvent } from '@hpc-bridge/server/contract';
import { SharedEventStream } from '../transport/sharedEvents';
import { FakeStream } from './jobs-fakes';

const PING: BridgeEvent = { type: 'ping', at: '2026-12-07T10:00:00.000Z' };

/** A shared stream over FakeStreams, with the ones it opened. */
function shared(): { events: SharedEventStream; opened: FakeStream[] } {
  const opened: FakeStream[] = [];
  const events = new SharedEventStream(() => {
    const stream = new FakeStream();
    opened.push(stream);
    return stream;
  });
  return { events, opened };
}

describe('SharedEventStream', () => {
  it('gives every model the events of one connection', () => {
    const { events, opened } = shared();
    const jobs = events.acquire();
    const kernels = events.acquire();
    expect(opened).toHaveLength(1);
    const seen: string[] = [];
    jobs.received.connect(() => seen.push('jobs'));
    kernels.received.connect(() => seen.push('kernels'));
    opened[0]!.setState('open');
    expect([jobs.state, kernels.state]).toEqual(['open', 'open']);
    opened[0]!.received.emit(PING);
    expect(seen).toEqual(['jobs', 'kernels']);
  });

  it('tells a model that joins a stream already open that it is open', async () => {
    const { events, opened } = shared();
    events.acquire();
    opened[0]!.setState('open');
    const late = events.acquire();
    const states: string[] = [];
    late.stateChanged.connect((_, state) => states.push(state));
    await Promise.resolve();
    expect(states).toEqual(['open']);
    expect(opened).toHaveLength(1);
  });

  it('tells only the models that had the connection before that it resumed', async () => {
    const { events, opened } = shared();
    const jobs = events.acquire();
    opened[0]!.setState('open');
    opened[0]!.setState('connecting');
    // Joined while reconnecting: it never had a list to keep.
    const late = events.acquire();
    opened[0]!.resumed = true;
    opened[0]!.setState('open');
    expect([jobs.resumed, late.resumed]).toEqual([true, false]);
    const joinedOpen = events.acquire();
    await Promise.resolve();
    expect(joinedOpen.state).toBe('open');
    expect(joinedOpen.resumed).toBe(false);
  });

  it('closes the connection when the last handle lets go, and opens a new one after', () => {
    const { events, opened } = shared();
    const jobs = events.acquire();
    const kernels = events.acquire();
    jobs.dispose();
    jobs.dispose();
    expect(jobs.state).toBe('closed');
    expect(opened[0]!.isDisposed).toBe(false);
    kernels.dispose();
    expect(opened[0]!.isDisposed).toBe(true);
    events.acquire();
    expect(opened).toHaveLength(2);
  });

  it('ends every handle on close (a new bridge URL)', () => {
    const { events, opened } = shared();
    const handle = events.acquire();
    const states: string[] = [];
    handle.stateChanged.connect((_, state) => states.push(state));
    events.close();
    // FakeStream.dispose does not signal: the real EventStream emits `closed`.
    opened[0]!.stateChanged.emit('closed');
    expect(states).toEqual(['closed']);
    expect(handle.isDisposed).toBe(true);
    expect(events.acquire()).not.toBe(handle);
    expect(opened).toHaveLength(2);
  });
});
