/**
 * @jest-environment node
 */
import { AssistantError } from '../assistant/api';
import { InlineCompletionModel } from '../assistant/InlineCompletionModel';
import {
  assistantEndpoint,
  FakeAssistantApi,
  loadedModel,
  settle
} from './assistant-fakes';
import { identityTrans } from './helpers';

const prompt = (prefix: string) => ({ prefix, suffix: '' });

async function setUp() {
  const { api, model } = await loadedModel(undefined, {
    trans: identityTrans()
  });
  const inline = new InlineCompletionModel({ assistant: model });
  const failures: string[] = [];
  inline.failed.connect((_, message) => failures.push(message));
  return { api, model, inline, failures };
}

describe('InlineCompletionModel', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends one request after a burst of keystrokes, with the last prompt', async () => {
    const { api, inline } = await setUp();
    const results = ['i', 'im', 'imp', 'impo'].map(text =>
      inline.complete(prompt(text))
    );
    jest.advanceTimersByTime(100);
    expect(api.completions).toHaveLength(0);
    jest.advanceTimersByTime(250);
    await settle();
    expect(api.completions).toHaveLength(1);
    expect(api.completions[0].request).toEqual({
      endpointId: 'e1',
      prefix: 'impo',
      suffix: '',
      maxTokens: 48
    });
    api.completions[0].resolve('rt numpy as np');
    expect(await Promise.all(results)).toEqual([
      null,
      null,
      null,
      'rt numpy as np'
    ]);
  });

  it('waits the debounce of the settings', async () => {
    const { api, model, inline } = await setUp();
    model.settings = { ...model.settings, debounceMs: 1000 };
    void inline.complete(prompt('x'));
    jest.advanceTimersByTime(999);
    await settle();
    expect(api.completions).toHaveLength(0);
    jest.advanceTimersByTime(1);
    await settle();
    expect(api.completions).toHaveLength(1);
  });

  it('aborts the fetch of an outdated request and never returns its answer', async () => {
    const { api, inline } = await setUp();
    const first = inline.complete(prompt('def f('));
    jest.advanceTimersByTime(250);
    await settle();
    expect(api.completions).toHaveLength(1);
    const outdated = api.completions[0];

    const second = inline.complete(prompt('def f(x'));
    expect(outdated.signal?.aborted).toBe(true);
    // An answer that still arrives for the outdated request is not shown.
    outdated.resolve('x):');
    expect(await first).toBeNull();

    jest.advanceTimersByTime(250);
    await settle();
    expect(api.completions).toHaveLength(2);
    api.completions[1].resolve('):');
    expect(await second).toBe('):');
  });

  it('never returns the answer of an outdated request, even one that ignores the abort', async () => {
    const { api, inline } = await setUp();
    api.complete = request =>
      new Promise(resolve => {
        api.completions.push({
          request,
          signal: undefined,
          resolve,
          reject: () => undefined
        });
      });
    const first = inline.complete(prompt('a'));
    jest.advanceTimersByTime(250);
    await settle();
    void inline.complete(prompt('ab'));
    api.completions[0].resolve('late');
    expect(await first).toBeNull();
  });

  it('asks nothing while inline completion is off or the endpoint is unavailable', async () => {
    const api = new FakeAssistantApi();
    api.endpointList = [assistantEndpoint({ unavailable: 'Budget spent.' })];
    const { model } = await loadedModel(api);
    const inline = new InlineCompletionModel({ assistant: model });
    const spent = inline.complete(prompt('x'));
    jest.advanceTimersByTime(250);
    expect(await spent).toBeNull();

    api.endpointList = [assistantEndpoint()];
    await model.refresh();
    model.settings = { ...model.settings, inlineCompletion: false };
    const off = inline.complete(prompt('x'));
    jest.advanceTimersByTime(250);
    expect(await off).toBeNull();
    expect(api.completions).toHaveLength(0);
  });

  it('tells about a failure once, not on every keystroke', async () => {
    const { api, inline, failures } = await setUp();
    const limited = () =>
      new AssistantError('Rate limit reached.', 429, 'rate_limit_exceeded');
    for (const text of ['a', 'ab', 'abc']) {
      const result = inline.complete(prompt(text));
      jest.advanceTimersByTime(250);
      await settle();
      api.completions[api.completions.length - 1].reject(limited());
      expect(await result).toBeNull();
    }
    expect(failures).toEqual([
      'Too many requests to the assistant: wait a moment (Rate limit reached.).'
    ]);
  });

  it('stops asking once the re-listed endpoint says the budget is spent', async () => {
    const { api, inline, failures, model } = await setUp();
    const result = inline.complete(prompt('a'));
    jest.advanceTimersByTime(250);
    await settle();
    api.endpointList = [
      assistantEndpoint({ tokensLeft: 0, unavailable: 'The budget is spent.' })
    ];
    api.completions[0].reject(
      new AssistantError('Budget spent.', 429, 'insufficient_quota')
    );
    expect(await result).toBeNull();
    await settle();
    expect(failures).toEqual([
      'Your token budget for the assistant is spent (Budget spent.).'
    ]);
    expect(api.calls).toEqual(['endpoints', 'complete', 'endpoints']);
    expect(model.problem).toBe('The budget is spent.');
    const next = inline.complete(prompt('ab'));
    jest.advanceTimersByTime(250);
    expect(await next).toBeNull();
    expect(api.completions).toHaveLength(1);
  });

  it('ends the wait and the fetch on cancel', async () => {
    const { api, inline } = await setUp();
    const waiting = inline.complete(prompt('a'));
    inline.cancel();
    expect(await waiting).toBeNull();
    jest.advanceTimersByTime(1000);
    await settle();
    expect(api.completions).toHaveLength(0);
  });
});
