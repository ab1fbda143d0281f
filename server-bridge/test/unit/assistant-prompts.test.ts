/** The chat request's history below its size (oldest dropped first), the delta text, and the history limits. */
import { DeltaText } from '../../src/assistant/chat-stream';
import { CHAT_REQUEST_BYTES, chatMessages } from '../../src/assistant/prompts';
import { ConversationTable } from '../../src/assistant/repository/conversations';
import type { ChatMessage } from '../../src/contract';
import { testStore } from './test-store';

const message = (
  role: 'user' | 'assistant',
  content: string,
  i = 0
): ChatMessage => ({
  role,
  content,
  context: null,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  tokens: null
});

const bytes = (x: unknown) => Buffer.byteLength(JSON.stringify(x));

describe('chat messages', () => {
  it('drops the oldest history first to stay below the request size, never starting with an answer', () => {
    const history = Array.from({ length: 12 }, (_, i) =>
      message(i % 2 === 0 ? 'user' : 'assistant', `${i}:${'x'.repeat(3000)}`)
    );
    const turns = chatMessages(history, 'next?', null);
    expect(bytes(turns)).toBeLessThanOrEqual(CHAT_REQUEST_BYTES);
    expect(turns[0]?.role).toBe('system');
    expect(turns[1]?.role).toBe('user');
    expect(turns.at(-1)).toEqual({ role: 'user', content: 'next?' });
    expect(turns.at(-2)?.content.startsWith('11:')).toBe(true);
    expect(turns.length).toBeLessThan(14);
  });

  it('cuts a long context from its start and keeps the question whole', () => {
    const context = `${'a'.repeat(60_000)}TAIL`;
    const turns = chatMessages([message('user', 'old')], 'Why?', context);
    expect(bytes(turns)).toBeLessThanOrEqual(CHAT_REQUEST_BYTES);
    const last = turns.at(-1)?.content ?? '';
    expect(last).toContain('TAIL');
    expect(last.endsWith('Why?')).toBe(true);
    expect(turns.map(t => t.role)).toEqual(['system', 'user']);
  });
});

describe('the delta text', () => {
  it('reads the content of chunks split anywhere, and ignores usage and [DONE]', () => {
    const d = new DeltaText();
    const sse =
      'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n' +
      'data: {"choices":[{"delta":{"content":"lo"}}]}\r\n\r\n' +
      'data: {"choices":[],"usage":{"prompt_tokens":1}}\n\ndata: [DONE]\n\n';
    for (let i = 0; i < sse.length; i += 7) {
      d.push(sse.slice(i, i + 7));
    }
    expect(d.end()).toBe('Hello');
  });
});

describe('history limits', () => {
  it('keeps the latest 200 conversations per user and 500 messages each', () => {
    const store = testStore();
    const table = new ConversationTable(store);
    for (let i = 0; i < 203; i++) {
      const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
      table.insert({
        id: `c${i}`,
        owner: 'alice',
        endpoint_id: 'e',
        title: null,
        created_at: at,
        updated_at: at
      });
    }
    table.insert({
      id: 'bobs',
      owner: 'bob',
      endpoint_id: 'e',
      title: null,
      created_at: '2025-01-01T00:00:00.000Z',
      updated_at: '2025-01-01T00:00:00.000Z'
    });
    expect(table.keepLatest('alice', 200)).toBe(3);
    expect(table.list('alice')).toHaveLength(200);
    expect(table.get('c2')).toBeUndefined();
    expect(table.get('c3')).toBeDefined();
    expect(table.get('bobs')).toBeDefined();

    for (let i = 0; i < 505; i++) {
      table.addMessage('c3', message('user', `m${i}`, i), 500);
    }
    const kept = table.messages('c3');
    expect(kept).toHaveLength(500);
    expect(kept[0]?.content).toBe('m5');
    table.delete('c3');
    expect(
      store.db.prepare('SELECT COUNT(*) AS n FROM conversation_messages').get()
    ).toEqual({ n: 0 });
    store.close();
  });
});
