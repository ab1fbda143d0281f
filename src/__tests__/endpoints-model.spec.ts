/**
 * @jest-environment node
 */
import type { Endpoint, EndpointState } from '@hpc-bridge/server/contract';
import { execFileSync } from 'child_process';
import { GatewayChat } from '../endpoints/chat';
import { Snippets } from '../endpoints/snippets';
import { EndpointsModel } from '../endpoints/EndpointsModel';
import { TryItModel } from '../endpoints/TryItModel';
import { json } from './helpers';
import {
  CATALOG,
  FakeEndpointsApi,
  endpoint,
  key,
  sse
} from './endpoints-fakes';
import { EndpointForm } from '../endpoints/createForm';

const STATES: EndpointState[] = [
  'pending',
  'starting',
  'ready',
  'idle',
  'scaled-to-zero',
  'failed',
  'stopping',
  'stopped'
];

describe('EndpointsModel: states', () => {
  it('offers Start only when stopped or failed, Stop unless stopping or stopped', () => {
    const offered = Object.fromEntries(
      STATES.map(state => [state, EndpointsModel.actions(state)])
    );
    expect(offered).toEqual({
      pending: { start: false, stop: true },
      starting: { start: false, stop: true },
      ready: { start: false, stop: true },
      idle: { start: false, stop: true },
      'scaled-to-zero': { start: false, stop: true },
      failed: { start: true, stop: true },
      stopping: { start: false, stop: false },
      stopped: { start: true, stop: false }
    });
  });

  it('polls fast only while an endpoint is pending, starting or stopping', () => {
    expect(STATES.filter(EndpointsModel.isSettling)).toEqual([
      'pending',
      'starting',
      'stopping'
    ]);
    expect(STATES.filter(EndpointsModel.isServing)).toEqual([
      'ready',
      'idle',
      'scaled-to-zero'
    ]);
  });

  it('follows an endpoint from create to stopped to deleted', async () => {
    const api = new FakeEndpointsApi();
    const model = new EndpointsModel({ api });
    await model.refresh();
    expect(model.loading).toBe(false);
    expect(model.catalog).toEqual(CATALOG);

    const created = await model.create({
      name: 'demo',
      model: 'tiny-random',
      provider: 'local'
    });
    expect(model.endpoint(created.id)?.state).toBe('pending');
    // A new endpoint is shown expanded.
    expect(model.expanded.has(created.id)).toBe(true);

    api.endpoints = api.endpoints.map(e => ({ ...e, state: 'ready' as const }));
    await model.refresh();
    expect(model.endpoint(created.id)?.state).toBe('ready');
    expect(api.calls).toContain(`keys ${created.id}`);
    expect(api.calls).toContain(`metrics ${created.id}`);

    await model.stopEndpoint(created.id);
    expect(model.endpoint(created.id)?.state).toBe('stopped');
    expect(EndpointsModel.actions('stopped').start).toBe(true);
    await model.startEndpoint(created.id);
    expect(model.endpoint(created.id)?.state).toBe('pending');

    await model.deleteEndpoint(created.id);
    expect(model.endpoint(created.id)).toBeNull();
    expect(model.expanded.has(created.id)).toBe(false);
    model.dispose();
  });

  it('drops endpoints deleted elsewhere, and reads no keys of shared ones', async () => {
    const api = new FakeEndpointsApi();
    api.endpoints = [
      endpoint({ id: 'mine' }),
      endpoint({
        id: 'theirs',
        owner: 'bob',
        visibility: 'group',
        group: 'ml101'
      })
    ];
    const model = new EndpointsModel({ api });
    await model.refresh();
    model.toggle('mine');
    model.toggle('theirs');
    await model.refresh();
    expect(api.calls).toContain('keys mine');
    expect(api.calls).not.toContain('keys theirs');
    expect(model.isOwner(model.endpoint('theirs') as Endpoint)).toBe(false);

    api.endpoints = api.endpoints.filter(e => e.id !== 'mine');
    await model.refresh();
    expect(model.endpoints.map(e => e.id)).toEqual(['theirs']);
    expect(model.expanded.has('mine')).toBe(false);
    model.dispose();
  });

  it('passes the bridge refusal of a create on as it is', async () => {
    const api = new FakeEndpointsApi();
    api.failCreateWith = new Error(
      'Resources outside the limits of model tiny-random: cpus=5 (allowed 1–2)'
    );
    const model = new EndpointsModel({ api });
    await model.refresh();
    const form = { ...EndpointForm.defaults(CATALOG, CATALOG.models[0]) };
    await expect(
      model.create(EndpointForm.createRequest({ ...form, name: 'x', cpus: 5 }))
    ).rejects.toThrow('cpus=5 (allowed 1–2)');
    expect(model.endpoints).toEqual([]);
    model.dispose();
  });
});

describe('EndpointsModel: the create form', () => {
  it('starts from the model defaults and the first configured provider', () => {
    expect(EndpointForm.defaults(CATALOG, CATALOG.models[0])).toEqual({
      name: '',
      model: 'tiny-random',
      provider: 'local',
      cpus: 1,
      memoryMB: 1000,
      // The bridge host has no GPU to give.
      gpus: 0,
      timeMinutes: 60,
      idleMinutes: 15,
      visibility: 'private',
      group: '',
      fallback: '',
      tiers: []
    });
    expect(EndpointForm.providerTitle(CATALOG, 'slurm')).toBe(
      'SLURM GPU partition'
    );
  });

  it('gives GPUs off the bridge host, and keeps a number the user typed', () => {
    const model = CATALOG.models[0];
    const local = EndpointForm.defaults(CATALOG, model);
    const slurm = EndpointForm.withProvider(local, 'slurm', model);
    expect(slurm.gpus).toBe(1);
    expect(EndpointForm.withProvider(slurm, 'local', model).gpus).toBe(0);
    const typed = { ...slurm, gpus: 0 };
    expect(EndpointForm.withProvider(typed, 'local', model).gpus).toBe(0);
    expect(
      EndpointForm.withProvider({ ...local, gpus: 1 }, 'slurm', model).gpus
    ).toBe(1);
    expect(EndpointForm.withProvider(local, 'slurm').gpus).toBe(0);
  });

  it('sends a group only for shared endpoints', () => {
    const form = {
      ...EndpointForm.defaults(CATALOG, CATALOG.models[0]),
      name: ' demo ',
      gpus: 0,
      group: 'ml101'
    };
    expect(EndpointForm.createRequest(form)).toEqual({
      name: 'demo',
      model: 'tiny-random',
      provider: 'local',
      resources: { cpus: 1, memoryMB: 1000, gpus: 0, timeMinutes: 60 },
      idleMinutes: 15,
      visibility: 'private'
    });
    expect(
      EndpointForm.createRequest({ ...form, visibility: 'course' })
    ).toMatchObject({ visibility: 'course', group: 'ml101' });
  });

  it('sends the chosen tiers, and no tiers key when none is chosen', () => {
    const form = {
      ...EndpointForm.defaults(CATALOG, CATALOG.models[0]),
      name: 'rag'
    };
    expect(EndpointForm.createRequest(form)).not.toHaveProperty('tiers');
    expect(
      EndpointForm.createRequest({
        ...form,
        tiers: ['scratch', 'sensitive:medical']
      }).tiers
    ).toEqual(['scratch', 'sensitive:medical']);
  });

  it('finds the courses a user teaches', () => {
    expect(
      EndpointsModel.courses([
        'ml101',
        'ml101-instructors',
        'climate',
        '-instructors'
      ])
    ).toEqual(['ml101']);
  });
});

describe('EndpointsModel: keys are shown once', () => {
  it('returns the key when created and keeps only what the list shows', async () => {
    const api = new FakeEndpointsApi();
    api.endpoints = [endpoint()];
    const model = new EndpointsModel({ api });
    await model.refresh();
    const created = await model.createKey('e1', {
      name: 'laptop',
      requestsPerMinute: 60
    });
    expect(created.key).toMatch(/^hpcb_.+SECRET/);
    expect(model.keys('e1')).toHaveLength(1);
    expect(model.keys('e1')[0]).toMatchObject({
      name: 'laptop',
      requestsPerMinute: 60
    });
    expect(model.keys('e1')[0]).not.toHaveProperty('key');
    // Nothing the section renders from afterwards holds the key.
    const snippets = model.snippets(model.endpoint('e1') as Endpoint);
    expect(JSON.stringify([model.keys('e1'), snippets])).not.toContain(
      created.key
    );
    expect(snippets.python).toContain('os.environ["HPCB_API_KEY"]');

    await model.revokeKey('e1', created.id);
    expect(model.keys('e1')[0].revokedAt).not.toBeNull();
    model.dispose();
  });
});

describe('Snippets', () => {
  const url = 'http://127.0.0.1:8000/services/hpc-bridge/v1';

  it('reads the key from HPCB_API_KEY when none is given', () => {
    const python = Snippets.python({ url, model: 'tiny-random' });
    expect(python).toContain('from openai import OpenAI');
    expect(python).toContain('import os');
    expect(python).toContain(`base_url="${url}"`);
    expect(python).toContain('api_key=os.environ["HPCB_API_KEY"]');
    expect(python).toContain('model="tiny-random"');
    expect(python).toContain('client.chat.completions.create(');

    const curl = Snippets.curl({ url, model: 'tiny-random' });
    expect(curl).toContain(`curl '${url}/chat/completions'`);
    expect(curl).toContain('-H "Authorization: Bearer $HPCB_API_KEY"');
  });

  it('writes a just-created key in', () => {
    const python = Snippets.python({ url, model: 'm', key: 'hpcb_abc' });
    expect(python).toContain('api_key="hpcb_abc"');
    expect(python).not.toContain('import os');
    expect(Snippets.curl({ url, model: 'm', key: 'hpcb_abc' })).toContain(
      "-H 'Authorization: Bearer hpcb_abc'"
    );
  });

  it('quotes what it writes into Python strings', () => {
    expect(Snippets.pythonString('a"b\\c\nd\te\u0001')).toBe(
      '"a\\"b\\\\c\\nd\\te\\x01"'
    );
  });

  it('quotes curl words so that a shell sees them unchanged', () => {
    const model = `it's "quoted" $HOME \`x\` \\`;
    const curl = Snippets.curl({ url, model, key: "k'ey" });
    // Run the snippet with `curl` replaced by a printer of its words.
    const words = execFileSync(
      '/bin/sh',
      [
        '-c',
        `curl() { for w in "$@"; do printf '%s\\n' "$w"; done; }\n${curl}`
      ],
      { encoding: 'utf8', env: { HOME: '/nowhere' } }
    ).split('\n');
    expect(words).toContain("Authorization: Bearer k'ey");
    const body = JSON.parse(words[words.indexOf('-d') + 1]) as {
      model: string;
    };
    expect(body.model).toBe(model);
  });
});

describe('GatewayChat', () => {
  it('reads the text of chat completion chunks', () => {
    expect(
      GatewayChat.parseLine(
        'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}'
      )
    ).toBe('Hi');
    expect(GatewayChat.parseLine('data: [DONE]')).toBeNull();
    expect(GatewayChat.parseLine(': keep-alive')).toBeNull();
    expect(() =>
      GatewayChat.parseLine('data: {"error":{"message":"budget spent"}}')
    ).toThrow('budget spent');
  });

  it('streams an answer split across reads', async () => {
    const text =
      'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\ndata: {"choices":[{"del' +
      'ta":{"content":"lo"}}]}\n\ndata: [DONE]\n\n';
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(text.slice(0, 60)));
        controller.enqueue(encoder.encode(text.slice(60)));
        controller.close();
      }
    });
    const pieces: string[] = [];
    for await (const piece of GatewayChat.stream({
      url: 'http://gw/v1/',
      key: 'hpcb_x',
      model: 'm',
      prompt: 'Hi',
      fetch: async (input, init) => {
        expect(input).toBe('http://gw/v1/chat/completions');
        expect(JSON.parse(String(init.body))).toMatchObject({ stream: true });
        expect(init.headers).toMatchObject({ Authorization: 'Bearer hpcb_x' });
        return new Response(body, { status: 200 });
      }
    })) {
      pieces.push(piece);
    }
    expect(pieces).toEqual(['Hel', 'lo']);
  });

  it('rejects with the gateway sentence and status', async () => {
    const stream = GatewayChat.stream({
      url: 'http://gw/v1',
      key: 'bad',
      model: 'm',
      prompt: 'Hi',
      fetch: async () =>
        json(
          { error: { message: 'Invalid API key', code: 'invalid_api_key' } },
          401
        )
    });
    await expect(stream.next()).rejects.toMatchObject({
      message: 'Invalid API key',
      status: 401,
      code: 'invalid_api_key'
    });
  });
});

describe('EndpointsModel: the Try it box', () => {
  it('makes its own panel-try key once, revoking older ones, and streams answers', async () => {
    const api = new FakeEndpointsApi();
    api.endpoints = [endpoint()];
    api.keyList.set('e1', [
      key({ id: 'old', name: TryItModel.KEY_NAME }),
      key({ id: 'mine', name: 'laptop' })
    ]);
    const sent: string[] = [];
    const model = new EndpointsModel({
      api,
      chatFetch: async (_input, init) => {
        sent.push(
          String((init.headers as Record<string, string>).Authorization)
        );
        return sse(['Hel', 'lo']);
      }
    });
    await model.refresh();
    await model.send('e1', 'Hi there');
    expect(model.chat('e1')).toEqual({
      prompt: 'Hi there',
      answer: 'Hello',
      busy: false,
      error: null
    });
    expect(api.calls).toContain('revokeKey e1 old');
    expect(api.calls).not.toContain('revokeKey e1 mine');
    const created = api.calls.filter(c => c.startsWith('createKey'));
    expect(created).toEqual([`createKey e1 ${TryItModel.KEY_NAME}`]);
    const tryKey = (api.keyList.get('e1') ?? []).find(
      k => k.name === TryItModel.KEY_NAME && !k.revokedAt
    );
    expect(tryKey).toMatchObject({
      requestsPerMinute: TryItModel.REQUESTS_PER_MINUTE,
      tokenBudget: TryItModel.TOKEN_BUDGET
    });

    await model.send('e1', 'Again');
    expect(api.calls.filter(c => c.startsWith('createKey'))).toHaveLength(1);
    expect(sent[0]).toMatch(/^Bearer hpcb_.+SECRET/);
    expect(sent[1]).toBe(sent[0]);
    model.dispose();
  });

  it('makes a new key once when its key was revoked, and shows other errors', async () => {
    const api = new FakeEndpointsApi();
    api.endpoints = [endpoint()];
    const answers = [
      json({ error: { message: 'Invalid API key' } }, 401),
      sse(['ok']),
      json({ error: { message: 'Token budget used up' } }, 429)
    ];
    const model = new EndpointsModel({
      api,
      chatFetch: async () => answers.shift() as Response
    });
    await model.refresh();
    await model.send('e1', 'Hi');
    expect(model.chat('e1').answer).toBe('ok');
    expect(api.calls.filter(c => c.startsWith('createKey'))).toHaveLength(2);

    await model.send('e1', 'Hi');
    expect(model.chat('e1')).toMatchObject({
      busy: false,
      answer: '',
      error: 'Token budget used up'
    });
    model.dispose();
  });
});

describe('EndpointsModel.summary', () => {
  it('shows the minute in progress, the latest latencies and the totals', () => {
    const point = (requests: number, p50Ms: number | null = null) => ({
      at: '2026-11-25T10:00:00.000Z',
      requests,
      errors: 0,
      p50Ms,
      p95Ms: p50Ms === null ? null : p50Ms * 2,
      promptTokens: 0,
      completionTokens: 0
    });
    const summary = EndpointsModel.summary({
      points: [point(0), point(3, 40), point(2, 20), point(0)],
      totals: { requests: 5, errors: 1, promptTokens: 30, completionTokens: 12 }
    });
    expect(summary).toEqual({
      requestsPerMinute: 0,
      p50Ms: 20,
      p95Ms: 40,
      tokens: 42,
      requests: 5,
      errors: 1,
      series: [0, 3, 2, 0]
    });
  });
});
