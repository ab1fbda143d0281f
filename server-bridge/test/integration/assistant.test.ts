/**
 * The editor's assistant in the real stack, through the hub's proxy with hub tokens only:
 * carol turns completion and chat on for ml101; alice's first completions (20 at once)
 * make exactly one course key for her, kept by the bridge; a chat answer streams and both
 * messages are kept; bob reaches none of alice's conversations; the course usage shows
 * completion and chat apart; the gateway's `GET /v1/models` lists what a key may use.
 */
import OpenAI from 'openai';
import { randomBytes } from 'node:crypto';
import {
  AssistantEndpointListSchema,
  AuditListSchema,
  ConversationSchema,
  CourseUsageSchema,
  Routes,
  type Endpoint
} from '../../src/contract';
import { createEndpoint, JSON_HEADERS, waitReady } from './endpoint-calls';
import { BRIDGE_URL, bridge, createUserToken } from './stack';

jest.setTimeout(240_000);

const COURSE = 'ml101';
const suffix = randomBytes(3).toString('hex');

let carol: string;
let alice: string;
let bob: string;
let admin: string;
let endpoint: Endpoint;

const post = (path: string, token: string, body: unknown) =>
  bridge(path, token, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify(body)
  });

beforeAll(async () => {
  [carol, alice, bob, admin] = await Promise.all(
    ['carol', 'alice', 'bob', 'admin'].map(u => createUserToken(u))
  );
  const created = await createEndpoint(carol, {
    name: `it-assist-${suffix}`,
    model: 'tiny-random',
    provider: 'local',
    resources: { gpus: 0 },
    visibility: 'course',
    group: COURSE
  });
  endpoint = await waitReady(created.id, carol);
  const shared = await bridge(Routes.course(COURSE), carol, {
    method: 'PUT',
    headers: JSON_HEADERS,
    body: JSON.stringify({
      endpoint: { endpointId: endpoint.id, tokenBudget: 200_000 },
      assistant: { completion: true, chat: true }
    })
  });
  expect(shared.status).toBe(200);
});

afterAll(async () => {
  if (carol === undefined) {
    return;
  }
  await bridge(Routes.course(COURSE), carol, {
    method: 'PUT',
    headers: JSON_HEADERS,
    body: JSON.stringify({
      endpoint: null,
      assistant: { completion: false, chat: false }
    })
  });
  if (endpoint !== undefined) {
    await bridge(Routes.endpoint(endpoint.id), carol, { method: 'DELETE' });
  }
});

describe('the assistant in the editor', () => {
  it("offers ml101's endpoint to its students for completion and chat, not to its instructor as a course one", async () => {
    const listed = AssistantEndpointListSchema.parse(
      (await bridge(Routes.assistantEndpoints, alice)).body
    ).endpoints;
    expect(listed.find(e => e.endpointId === endpoint.id)).toMatchObject({
      source: 'course',
      course: COURSE,
      model: 'tiny-random',
      completion: true,
      chat: true,
      unavailable: null
    });
    const carols = AssistantEndpointListSchema.parse(
      (await bridge(Routes.assistantEndpoints, carol)).body
    ).endpoints;
    expect(carols.find(e => e.endpointId === endpoint.id)?.source).toBe('own');
  });

  it('makes exactly one key for 20 first completions at once, and never shows it', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(Routes.assistantComplete, alice, {
          endpointId: endpoint.id,
          prefix: `def add_${i}(a, b):\n    return `,
          language: 'python',
          maxTokens: 8
        })
      )
    );
    expect(answers.map(a => a.status)).toEqual(Array(20).fill(200));
    for (const a of answers) {
      const body = a.body as { choices: { text: string }[] };
      expect(typeof body.choices[0]?.text).toBe('string');
      expect(JSON.stringify(a.body)).not.toMatch(/hpcb_/);
    }
    const audit = AuditListSchema.parse(
      (
        await bridge(
          `${Routes.audit}?user=alice&action=course.key.create&limit=1000`,
          admin
        )
      ).body
    );
    const made = audit.records.filter(r => r.details.endpoint === endpoint.id);
    expect(made).toHaveLength(1);
    expect(made[0]?.details.implicit).toBe(true);
  });

  it("streams a chat answer, keeps both messages, and shows bob none of alice's conversation", async () => {
    const created = await post(Routes.conversations, alice, {
      endpointId: endpoint.id
    });
    expect(created.status).toBe(201);
    const { id } = created.body as { id: string };
    const res = await fetch(`${BRIDGE_URL}${Routes.conversationMessages(id)}`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, Authorization: `token ${alice}` },
      body: JSON.stringify({ content: 'What is a tensor?', maxTokens: 16 })
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split('\n')
      .filter(l => l.startsWith('data: '));
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(events.length).toBeGreaterThan(2);

    const kept = ConversationSchema.parse(
      (await bridge(Routes.conversation(id), alice)).body
    );
    expect(kept.messages.map(m => m.role)).toEqual(['user', 'assistant']);
    expect(kept.messages[0]?.content).toBe('What is a tensor?');

    expect((await bridge(Routes.conversation(id), bob)).status).toBe(404);
    expect(
      (await post(Routes.conversationMessages(id), bob, { content: 'hi' }))
        .status
    ).toBe(404);
    expect(
      (await bridge(Routes.conversation(id), bob, { method: 'DELETE' })).status
    ).toBe(404);
    expect((await bridge(Routes.conversation(id), alice)).status).toBe(200);
  });

  it("shows carol alice's completion and chat use apart", async () => {
    const usage = CourseUsageSchema.parse(
      (await bridge(Routes.courseUsage(COURSE), carol)).body
    );
    const mine = usage.students.find(s => s.student === 'alice');
    expect(mine?.completionTokens).toBeGreaterThan(0);
    expect(mine?.chatTokens).toBeGreaterThan(0);
    expect(mine!.tokensUsed).toBeGreaterThanOrEqual(
      mine!.completionTokens + mine!.chatTokens
    );
  });

  it("lists the endpoint's model and its name for a key (openai client)", async () => {
    const created = await post(Routes.endpointKeys(endpoint.id), carol, {
      name: 'it-models'
    });
    expect(created.status).toBe(201);
    const { key } = created.body as { key: string };
    const client = new OpenAI({
      apiKey: key,
      baseURL: `${BRIDGE_URL}/v1`,
      maxRetries: 0
    });
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      ids.push(model.id);
    }
    expect(ids[0]).toBe('tiny-random');
    expect(ids).toContain(endpoint.name);
  });
});
