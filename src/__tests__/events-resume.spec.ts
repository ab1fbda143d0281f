/**
 * @jest-environment node
 */
import type { BridgeEvent, Job } from '@hpc-bridge/server/contract';
import { BridgeClient } from '../core/client';
import { JobsModel } from '../jobs/JobsModel';
import { SharedEventStream } from '../transport/sharedEvents';
import {
  identityTrans,
  job,
  queuedFetch,
  streamingResponse,
  waitFor
} from './helpers';
import { asClient, FakeClient, FakeStream, parsedJob } from './jobs-fakes';

const RESUMED = { 'x-events-resumed': 'true' };

function jobEvent(id: number, state: string): string {
  const data = JSON.stringify({ type: 'job', job: job({ state }) });
  return `id: ${id}\nevent: job\ndata: ${data}\n\n`;
}

describe('EventStream: resuming after a drop', () => {
  it('sends the id of the last event on reconnect and delivers the replayed ones once', async () => {
    const first = streamingResponse();
    const second = streamingResponse('text/event-stream', RESUMED);
    const { fetch, requests } = queuedFetch([first.response, second.response]);
    const client = new BridgeClient({
      baseUrl: '/services/hpc-bridge/',
      getToken: () => 'secret-token',
      trans: identityTrans(),
      fetch,
      eventStream: { minDelayMs: 5 }
    });
    const stream = client.events();
    const received: BridgeEvent[] = [];
    stream.received.connect((_, event) => received.push(event));
    await waitFor(() => stream.state === 'open');
    expect(stream.resumed).toBe(false);
    expect(requests[0].init.headers).not.toHaveProperty('Last-Event-ID');
    first.push(jobEvent(3, 'PENDING'));
    first.push(jobEvent(5, 'RUNNING'));
    // A ping has no id: the stream resumes after the last event that had one.
    first.push('event: ping\ndata: {"at":"2026-11-25T10:00:00.000Z"}\n\n');
    await waitFor(() => received.length === 3);
    first.close();

    await waitFor(() => requests.length === 2 && stream.state === 'open');
    expect(requests[1].init.headers).toMatchObject({
      Authorization: 'token secret-token',
      'Last-Event-ID': '5'
    });
    expect(stream.resumed).toBe(true);
    second.push(jobEvent(8, 'COMPLETED'));
    await waitFor(() => received.length === 4);
    expect(
      received.flatMap(event => (event.type === 'job' ? [event.job.state] : []))
    ).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
    stream.dispose();
  });

  it('is not resumed when the bridge could not replay everything', async () => {
    const first = streamingResponse();
    const second = streamingResponse();
    const { fetch, requests } = queuedFetch([first.response, second.response]);
    const client = new BridgeClient({
      baseUrl: '/services/hpc-bridge/',
      getToken: () => '',
      trans: identityTrans(),
      fetch,
      eventStream: { minDelayMs: 5 }
    });
    const stream = client.events();
    await waitFor(() => stream.state === 'open');
    first.push(jobEvent(3, 'RUNNING'));
    first.close();
    await waitFor(() => requests.length === 2 && stream.state === 'open');
    expect(requests[1].init.headers).toMatchObject({ 'Last-Event-ID': '3' });
    expect(stream.resumed).toBe(false);
    stream.dispose();
  });
});

describe('Models on a resumed stream', () => {
  const models: JobsModel[] = [];
  afterEach(() => models.splice(0).forEach(model => model.dispose()));

  /** A JobsModel on a handle of a shared stream over `stream`. */
  function jobsModel(stream: FakeStream): {
    fake: FakeClient;
    model: JobsModel;
  } {
    const fake = new FakeClient();
    fake.lists = [[parsedJob()]];
    const shared = new SharedEventStream(() => stream);
    fake.events = () => shared.acquire();
    const model = new JobsModel({
      client: asClient(fake),
      pollInterval: 3600_000
    });
    models.push(model);
    return { fake, model };
  }

  const lists = (fake: FakeClient): number =>
    fake.calls.filter(call => call === 'list').length;

  it('get the replayed final state once and reload nothing', async () => {
    const stream = new FakeStream();
    const { fake, model } = jobsModel(stream);
    stream.setState('open');
    await waitFor(() => !model.loading && lists(fake) === 1);
    const ended: Job[] = [];
    model.jobEnded.connect((_, j) => ended.push(j));

    stream.setState('connecting');
    await waitFor(() => lists(fake) === 2);
    stream.resumed = true;
    stream.setState('open');
    const done = parsedJob({
      state: 'COMPLETED',
      updatedAt: '2026-11-25T10:02:00.000Z'
    });
    stream.received.emit({ type: 'job', job: done });
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(ended.map(j => [j.id, j.state])).toEqual([['j1', 'COMPLETED']]);
    expect(model.jobs.map(j => j.state)).toEqual(['COMPLETED']);
    expect(lists(fake)).toBe(2);
  });

  it('reload their list when the reconnect did not resume', async () => {
    const stream = new FakeStream();
    const { fake, model } = jobsModel(stream);
    stream.setState('open');
    await waitFor(() => !model.loading && lists(fake) === 1);
    stream.setState('connecting');
    await waitFor(() => lists(fake) === 2);
    stream.setState('open');
    await waitFor(() => lists(fake) === 3);
  });
});
