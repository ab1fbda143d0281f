/**
 * @jest-environment node
 */
import { AssistantError } from '../assistant/api';
import { ChatModel } from '../assistant/ChatModel';
import {
  assistantEndpoint,
  FakeAssistantApi,
  loadedModel,
  settle,
  summary
} from './assistant-fakes';
import { identityTrans } from './helpers';

async function setUp(api = new FakeAssistantApi()) {
  const { model } = await loadedModel(api, { trans: identityTrans() });
  const chat = new ChatModel({ assistant: model });
  return { api, model, chat };
}

const contents = (chat: ChatModel) =>
  chat.messages.map(m => `${m.role}:${m.content}${m.streaming ? '…' : ''}`);

describe('ChatModel', () => {
  it('creates the conversation with the first message and streams the answer in', async () => {
    const { api, chat } = await setUp();
    const sending = chat.send('  How do I plot?  ', '```python\nx = 1\n```');
    await settle();
    expect(api.calls).toContain('create How do I plot?');
    expect(chat.currentId).toBe('c1');
    expect(chat.conversations.map(c => c.id)).toEqual(['c1']);
    expect(api.sent).toEqual([
      {
        id: 'c1',
        message: { content: 'How do I plot?', context: '```python\nx = 1\n```' }
      }
    ]);
    expect(chat.streaming).toBe(true);

    api.stream.push('Use ');
    await settle();
    expect(contents(chat)).toEqual(['user:How do I plot?', 'assistant:Use …']);
    api.stream.push('matplotlib.');
    api.stream.end();
    await sending;
    expect(contents(chat)).toEqual([
      'user:How do I plot?',
      'assistant:Use matplotlib.'
    ]);
    expect(chat.streaming).toBe(false);
    expect(chat.error).toBeNull();
  });

  it('keeps the partial answer when stopped', async () => {
    const { api, chat } = await setUp();
    const sending = chat.send('Write a loop');
    await settle();
    api.stream.push('for i in');
    await settle();
    chat.stop();
    await sending;
    expect(contents(chat)).toEqual(['user:Write a loop', 'assistant:for i in']);
    expect(chat.streaming).toBe(false);
    expect(chat.error).toBeNull();
  });

  it('shows a spent budget in words and drops the empty answer', async () => {
    const { api, chat } = await setUp();
    const sending = chat.send('Hi');
    await settle();
    api.stream.fail(
      new AssistantError('No tokens left.', 429, 'insufficient_quota')
    );
    await sending;
    expect(contents(chat)).toEqual(['user:Hi']);
    expect(chat.error).toBe(
      'Your token budget for the assistant is spent (No tokens left.).'
    );
  });

  it('sends further messages to the open conversation', async () => {
    const { api, chat } = await setUp();
    await chat.open('c9');
    expect(contents(chat)).toEqual(['user:Hi', 'assistant:Hello!']);
    const sending = chat.send('More');
    await settle();
    api.stream.end();
    await sending;
    expect(api.sent.map(s => s.id)).toEqual(['c9']);
    expect(api.calls.filter(c => c.startsWith('create'))).toEqual([]);
  });

  it('deletes a conversation and starts a new one', async () => {
    const api = new FakeAssistantApi();
    api.conversationList = [summary('c9', 'Earlier'), summary('c8', 'Older')];
    const { chat } = await setUp(api);
    await chat.refresh();
    await chat.open('c9');
    await chat.remove('c9');
    expect(chat.conversations.map(c => c.id)).toEqual(['c8']);
    expect(chat.currentId).toBeNull();
    expect(chat.messages).toEqual([]);
  });

  it('says so when no endpoint allows chat', async () => {
    const api = new FakeAssistantApi();
    api.endpointList = [assistantEndpoint({ chat: false })];
    const { chat } = await setUp(api);
    expect(chat.unavailable).toBe(
      'None of your assistant endpoints allows chat.'
    );
    await chat.send('Hi');
    expect(api.sent).toEqual([]);
    expect(chat.error).toBe('None of your assistant endpoints allows chat.');
  });
});
