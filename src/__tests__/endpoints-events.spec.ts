/**
 * @jest-environment node
 */
import { EndpointsModel } from '../endpoints/EndpointsModel';
import { endpoint, FakeEndpointsApi } from './endpoints-fakes';
import { FakeStream } from './jobs-fakes';

describe('EndpointsModel: endpoint events', () => {
  it('shows the changes of the user’s endpoints as they come, older ones ignored', async () => {
    const api = new FakeEndpointsApi();
    api.endpoints = [endpoint({ id: 'e1', state: 'starting' })];
    const model = new EndpointsModel({ api });
    await model.start();
    await model.refresh();
    api.stream.setState('open');
    expect(model.live).toBe(true);
    const lists = api.calls.filter(call => call === 'list').length;

    const ready = endpoint({
      id: 'e1',
      state: 'ready',
      updatedAt: '2026-11-25T10:05:00.000Z'
    });
    api.stream.received.emit({ type: 'endpoint', endpoint: ready });
    // A version older than the one shown (a replay) does not go back.
    api.stream.received.emit({
      type: 'endpoint',
      endpoint: endpoint({ id: 'e1', state: 'pending' })
    });
    expect(model.endpoint('e1')?.state).toBe('ready');
    api.stream.received.emit({
      type: 'endpoint',
      endpoint: endpoint({ id: 'e2', name: 'other', state: 'pending' })
    });
    expect(model.endpoints.map(e => e.id).sort()).toEqual(['e1', 'e2']);
    api.stream.received.emit({
      type: 'endpoint',
      endpoint: { ...ready, state: 'stopped' },
      deleted: true
    });
    expect(model.endpoint('e1')).toBeNull();
    // None of it asked the bridge.
    expect(api.calls.filter(call => call === 'list').length).toBe(lists);
    model.dispose();
    expect(api.stream.isDisposed).toBe(true);
  });

  it('opens the new stream when the shared one closes (a new bridge URL)', async () => {
    const api = new FakeEndpointsApi();
    const model = new EndpointsModel({ api });
    await model.start();
    const first = api.stream;
    api.stream = new FakeStream();
    first.setState('closed');
    api.stream.setState('open');
    expect(model.live).toBe(true);
    model.dispose();
  });
});
