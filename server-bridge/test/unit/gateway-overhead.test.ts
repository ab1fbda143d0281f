/**
 * `x-hpcb-overhead-ms` and `Server-Timing: hpcb;dur=…` on the gateway's answers: present
 * on forwarded, streamed and refused requests, and without the time the model server
 * takes.
 */
import { DomainError } from '../../src/domain-error';
import { liveGateway, type ILiveGateway } from './gateway-fakes';

let gateway: ILiveGateway;

beforeEach(async () => {
  gateway = await liveGateway();
});

afterEach(async () => {
  await gateway.close();
});

const CHAT = { messages: [{ role: 'user', content: 'hi' }] };

async function post(
  body: unknown,
  key: string | null = gateway.aliceKey
): Promise<Response> {
  return fetch(`${gateway.base}/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { authorization: `Bearer ${key}` })
    },
    body: JSON.stringify(body)
  });
}

/** The overhead an answer shows, checked against its Server-Timing; in ms. */
function overheadOf(res: Response): number {
  const shown = res.headers.get('x-hpcb-overhead-ms');
  expect(shown).toMatch(/^\d+\.\d{3}$/);
  expect(res.headers.get('server-timing')).toBe(`hpcb;dur=${shown}`);
  const ms = Number(shown);
  expect(ms).toBeGreaterThanOrEqual(0);
  expect(ms).toBeLessThan(1000);
  return ms;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

describe('gateway overhead header', () => {
  it('is on a completion, without the time the model server took', async () => {
    const answer = gateway.model.handle;
    gateway.model.handle = async call => {
      await sleep(300);
      await answer(call);
    };
    const res = await post(CHAT);
    expect(res.status).toBe(200);
    expect(overheadOf(res)).toBeLessThan(250);
    await res.json();
  });

  it('is on a streamed completion', async () => {
    gateway.model.handle = async call => {
      await sleep(300);
      call.res.writeHead(200, { 'content-type': 'text/event-stream' });
      call.res.write(
        `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'x' } }] })}\n\n`
      );
      call.res.end('data: [DONE]\n\n');
    };
    const res = await post({ ...CHAT, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(overheadOf(res)).toBeLessThan(250);
    await res.text();
  });

  it('is on the 401 of a bad key and the list of models', async () => {
    const res = await post(CHAT, `hpcb_${'A'.repeat(43)}`);
    expect(res.status).toBe(401);
    overheadOf(res);
    await res.json();
    const models = await fetch(`${gateway.base}/models`, {
      headers: { authorization: `Bearer ${gateway.aliceKey}` }
    });
    expect(models.status).toBe(200);
    overheadOf(models);
    await models.json();
  });

  it('is on the 429 of a spent budget', async () => {
    const { key } = gateway.f.keys.create('ep-alice', 'alice', {
      name: 'tiny budget',
      tokenBudget: 1
    });
    const res = await post(CHAT, key);
    expect(res.status).toBe(429);
    overheadOf(res);
    await res.json();
  });

  it('is on the 503 of an endpoint that did not wake', async () => {
    gateway.f.router.answers = [
      new DomainError('upstream_unavailable', 'The endpoint did not wake')
    ];
    const res = await post(CHAT);
    expect(res.status).toBe(503);
    overheadOf(res);
    await res.json();
  });
});
