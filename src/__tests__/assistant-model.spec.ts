/**
 * @jest-environment node
 */
import { AssistantError } from '../assistant/api';
import { AssistantModel, DEFAULT_SETTINGS } from '../assistant/AssistantModel';
import {
  abortError,
  assistantEndpoint,
  FakeAssistantApi,
  loadedModel,
  settle
} from './assistant-fakes';

const own = assistantEndpoint({ endpointId: 'own1', source: 'own' });
const shared = assistantEndpoint({ endpointId: 'sh1', source: 'shared' });
const course = assistantEndpoint({
  endpointId: 'c1',
  source: 'course',
  course: 'ml101',
  chat: false
});

describe('AssistantModel', () => {
  it('chooses a course endpoint by default, else the first own one', () => {
    expect(AssistantModel.defaultChoice([shared, own, course])).toBe(course);
    expect(AssistantModel.defaultChoice([shared, own])).toBe(own);
    expect(AssistantModel.defaultChoice([shared])).toBe(shared);
    expect(AssistantModel.defaultChoice([])).toBeNull();
  });

  it('uses the chosen endpoint while it is listed, and keeps the choice', async () => {
    const api = new FakeAssistantApi();
    api.endpointList = [own, course];
    const saved: string[] = [];
    const { model } = await loadedModel(api, {
      saveChoice: id => saved.push(id)
    });
    expect(model.current).toBe(course);
    model.choose('own1');
    expect(model.current).toBe(own);
    expect(saved).toEqual(['own1']);
    model.settings = { ...DEFAULT_SETTINGS, endpointId: 'gone' };
    expect(model.current).toBe(course);
  });

  it('chats on the current endpoint when it allows chat, else on the first that does', async () => {
    const api = new FakeAssistantApi();
    api.endpointList = [course, own];
    const { model } = await loadedModel(api);
    expect(model.current).toBe(course);
    expect(model.chatEndpoint).toBe(own);
    expect(model.completionActive).toBe(true);
  });

  it('has no endpoint before the list loaded or without any', async () => {
    const api = new FakeAssistantApi();
    const model = new AssistantModel({ api });
    expect(model.loaded).toBe(false);
    expect(model.current).toBeNull();
    api.endpointList = [];
    await model.refresh();
    expect(model.loaded).toBe(true);
    expect(model.current).toBeNull();
    expect(model.completionActive).toBe(false);
  });

  it('re-lists after every so many requests, not more often', async () => {
    const { api, model } = await loadedModel(undefined, { refreshEvery: 3 });
    model.noteOutcome(null);
    model.noteOutcome(abortError());
    model.noteOutcome(null);
    expect(api.calls).toEqual(['endpoints']);
    model.noteOutcome(null);
    await settle();
    expect(api.calls).toEqual(['endpoints', 'endpoints']);
  });

  it('re-lists at once after a spent budget or a refused key, and shows the problem until then', async () => {
    const { api, model } = await loadedModel();
    api.endpointList = [
      assistantEndpoint({ unavailable: 'The key was revoked.' })
    ];
    const isNew = model.noteOutcome(
      new AssistantError('Invalid key.', 401, 'invalid_api_key')
    );
    expect(isNew).toBe(true);
    expect(model.problem).toBe('Invalid key.');
    await settle();
    expect(api.calls).toEqual(['endpoints', 'endpoints']);
    expect(model.problem).toBe('The key was revoked.');
    expect(model.completionActive).toBe(false);
  });

  it('forgets a problem after a call went fine', async () => {
    const { model } = await loadedModel(undefined, { refreshEvery: 100 });
    expect(model.noteOutcome(new AssistantError('Boom.', 500, null))).toBe(
      true
    );
    expect(model.noteOutcome(new AssistantError('Boom.', 500, null))).toBe(
      false
    );
    model.noteOutcome(null);
    expect(model.problem).toBeNull();
    expect(model.noteOutcome(new AssistantError('Boom.', 500, null))).toBe(
      true
    );
  });
});
