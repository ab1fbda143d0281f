/**
 * @jest-environment node
 */
import {
  type ModelCatalog,
  ModelCatalogSchema,
  type UserModel,
  type UserModelCreate,
  UserModelSchema
} from '@hpc-bridge/server/contract';
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { RegisterModelForm } from '../endpoints/RegisterModelDialog';
import { UserModelsList } from '../endpoints/UserModelsList';
import {
  type IUserModelsApi,
  UserModelsModel
} from '../endpoints/UserModelsModel';
import { JobEndpointChoice } from '../jobs/endpointChoice';
import { JobData } from '../jobs/jobData';
import { JobEndpointsField } from '../jobs/JobEndpointsField';
import { BridgeRequestError } from '../transport/errors';
import { TranslatorContext } from '../ui/translator';
import { CATALOG, endpoint } from './endpoints-fakes';
import { identityTrans } from './helpers';

// The JupyterLab UI packages are ES modules that this Jest setup does not
// transform: stand-ins just good enough to render the markup.
jest.mock('@jupyterlab/ui-components', () => {
  const { createElement } = jest.requireActual<typeof React>('react');
  return {
    Button: (props: React.ButtonHTMLAttributes<HTMLButtonElement>) =>
      createElement(
        'button',
        { 'aria-label': props['aria-label'], disabled: props.disabled },
        props.children
      ),
    ReactWidget: class {},
    UseSignal: () => null
  };
});
jest.mock('@jupyterlab/apputils', () => ({
  Dialog: {},
  showDialog: jest.fn()
}));
jest.mock('@jupyterlab/translation', () => ({
  nullTranslator: { load: () => ({ __: (text: string) => text }) }
}));

const trans = identityTrans();

const MINE: UserModel = UserModelSchema.parse({
  ...CATALOG.models[0],
  name: 'my-llm',
  title: 'my-llm',
  own: true,
  uri: 'archive:results/42/model.gguf',
  sizeBytes: 3 * 1024 * 1024,
  registeredAt: '2026-12-01T10:00:00.000Z'
});

const WITH_MINE: ModelCatalog = ModelCatalogSchema.parse({
  ...CATALOG,
  models: [...CATALOG.models, MINE],
  userModels: {
    recipes: ['llama-server'],
    tierClasses: ['archive', 'scratch'],
    maxBytes: 1024 ** 3,
    providers: ['local', 'slurm']
  }
});

function refusal(
  status: number,
  code: 'bad_request' | 'conflict' | 'forbidden' | 'not_found',
  message: string,
  details?: unknown
): BridgeRequestError {
  return new BridgeRequestError({
    reason: 'http',
    message,
    url: null,
    status,
    body: { error: { code, message, ...(details ? { details } : {}) } }
  });
}

class FakeUserModelsApi implements IUserModelsApi {
  catalogAnswer: ModelCatalog = WITH_MINE;
  asked: string[] = [];
  refuse: BridgeRequestError | null = null;
  async catalog(): Promise<ModelCatalog> {
    this.asked.push('catalog');
    return this.catalogAnswer;
  }
  async register(request: UserModelCreate): Promise<UserModel> {
    this.asked.push(`register ${JSON.stringify(request)}`);
    if (this.refuse) {
      throw this.refuse;
    }
    return { ...MINE, name: request.name, uri: request.uri };
  }
  async remove(name: string): Promise<void> {
    this.asked.push(`remove ${name}`);
    if (this.refuse) {
      throw this.refuse;
    }
  }
}

function model(api = new FakeUserModelsApi(), onChanged = jest.fn()) {
  return {
    api,
    onChanged,
    model: new UserModelsModel({ api, trans, onChanged })
  };
}

/** Visible text of rendered markup, tags dropped. */
function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/&#x27;/g, "'")
    .trim();
}

function render(element: JSX.Element): string {
  return renderToStaticMarkup(
    <TranslatorContext.Provider value={trans}>
      {element}
    </TranslatorContext.Provider>
  );
}

describe('UserModelsModel', () => {
  it('lists only the caller’s own models of the catalog, with what the admin opened', async () => {
    const { model: m } = model();
    expect(m.loaded).toBe(false);
    await m.load();
    expect(m.models.map(x => x.name)).toEqual(['my-llm']);
    expect(m.settings?.recipes).toEqual(['llama-server']);
  });

  it('offers Register as Model for .gguf files, and for any file only when a recipe is not llama-server', async () => {
    const { api, model: m } = model();
    // Before the catalog is known: GGUF files only.
    expect(m.registrable('results/model.gguf')).toBe(true);
    expect(m.registrable('results/model.bin')).toBe(false);
    await m.load();
    expect(m.registrable('a/B.GGUF')).toBe(true);
    expect(m.registrable('a/weights.safetensors')).toBe(false);
    api.catalogAnswer = ModelCatalogSchema.parse({
      ...WITH_MINE,
      userModels: { ...WITH_MINE.userModels, recipes: ['vllm'] }
    });
    await m.load();
    expect(m.registrable('a/weights.safetensors')).toBe(true);
    // Not opened by the admin: nothing is registrable.
    api.catalogAnswer = CATALOG;
    await m.load();
    expect(m.settings).toBeNull();
    expect(m.registrable('results/model.gguf')).toBe(false);
  });

  it('proposes a name from the file and the first recipe', async () => {
    const { model: m } = model();
    await m.load();
    expect(m.form('archive', 'results/42/_tiny model.gguf')).toEqual({
      uri: 'archive:results/42/_tiny model.gguf',
      name: 'tiny-model',
      recipe: 'llama-server'
    });
  });

  it('registers a file, lists it and tells the endpoints to read the catalog again', async () => {
    const { api, model: m, onChanged } = model();
    await m.load();
    const result = await m.register({
      uri: 'scratch:out/new.gguf',
      name: ' new-llm ',
      recipe: 'llama-server'
    });
    expect(result.errors).toBeUndefined();
    expect(api.asked).toContain(
      'register {"name":"new-llm","uri":"scratch:out/new.gguf","recipe":"llama-server"}'
    );
    expect(m.models.map(x => x.name)).toEqual(['my-llm', 'new-llm']);
    expect(onChanged).toHaveBeenCalledTimes(1);
  });

  it('puts each refusal next to its field and sends nothing for a bad name', async () => {
    const { api, model: m, onChanged } = model();
    const form = { uri: 'archive:a.gguf', name: 'x', recipe: 'llama-server' };
    expect((await m.register({ ...form, name: '-bad name' })).errors).toEqual({
      name: expect.stringContaining('letters, digits')
    });
    expect(api.asked.filter(a => a.startsWith('register'))).toEqual([]);
    api.refuse = refusal(409, 'conflict', 'You already have a model named x');
    expect((await m.register(form)).errors).toEqual({
      name: 'You already have a model named x'
    });
    api.refuse = refusal(
      403,
      'forbidden',
      'Recipe vllm does not serve user model files (allowed: llama-server)'
    );
    expect((await m.register(form)).errors).toEqual({
      recipe: expect.stringContaining('Recipe vllm')
    });
    api.refuse = refusal(
      400,
      'bad_request',
      'archive:a.gguf is not a GGUF file (it does not start with "GGUF"); recipe llama-server serves GGUF models'
    );
    expect(Object.keys((await m.register(form)).errors ?? {})).toEqual(['uri']);
    api.refuse = refusal(400, 'bad_request', 'Request validation failed', [
      { in: 'body', path: '/recipe', message: 'Too long' }
    ]);
    expect(Object.keys((await m.register(form)).errors ?? {})).toEqual([
      'recipe'
    ]);
    api.refuse = refusal(404, 'not_found', 'No such file archive:a.gguf');
    expect((await m.register(form)).errors).toEqual({
      uri: 'No such file archive:a.gguf'
    });
    expect(onChanged).not.toHaveBeenCalled();
  });

  it('removes a model, and keeps it with the reason when the bridge refuses', async () => {
    const { api, model: m, onChanged } = model();
    await m.load();
    api.refuse = refusal(404, 'not_found', 'You have no model named my-llm');
    await m.remove('my-llm');
    expect(m.models).toHaveLength(1);
    expect(m.error?.message).toBe('You have no model named my-llm');
    api.refuse = null;
    await m.remove('my-llm');
    expect(m.models).toEqual([]);
    expect(m.error).toBeNull();
    expect(m.busy('my-llm')).toBe(false);
    expect(onChanged).toHaveBeenCalledTimes(1);
  });
});

describe('the user model widgets', () => {
  it('list name, source, size and which endpoints serve each model, with Delete', async () => {
    const { model: m } = model();
    await m.load();
    const shown = text(
      render(
        <UserModelsList
          model={m}
          servedBy={name => (name === 'my-llm' ? ['chat'] : [])}
          onDelete={() => undefined}
        />
      )
    );
    expect(shown).toContain('my-llm');
    expect(shown).toContain('archive:results/42/model.gguf');
    expect(shown).toContain('3.0 MiB');
    expect(shown).toContain('served by chat');
    expect(
      render(
        <UserModelsList
          model={m}
          servedBy={() => []}
          onDelete={() => undefined}
        />
      )
    ).toContain('aria-label="Delete model my-llm"');
  });

  it('show nothing where the admin has not opened user models', async () => {
    const api = new FakeUserModelsApi();
    api.catalogAnswer = CATALOG;
    const { model: m } = model(api);
    await m.load();
    expect(
      render(
        <UserModelsList
          model={m}
          servedBy={() => []}
          onDelete={() => undefined}
        />
      )
    ).toBe('');
  });

  it('show the register form with the recipes and the refusal next to its field', () => {
    const html = render(
      <RegisterModelForm
        value={{ uri: 'archive:m.gguf', name: 'm', recipe: 'llama-server' }}
        recipes={['llama-server', 'vllm']}
        errors={{ name: 'You already have a model named m' }}
        onChange={() => undefined}
      />
    );
    expect(text(html)).toContain('File archive:m.gguf');
    expect(html).toContain('<option value="vllm">vllm</option>');
    expect(html).toMatch(
      /data-testid="hpc-register-model-error-name">You already have a model named m</
    );
    expect(html).not.toContain('hpc-register-model-error-recipe');
  });
});

describe('Endpoints this job calls', () => {
  const api = {
    whoami: async () => ({ name: 'alice', groups: [] }),
    list: async () => [
      endpoint({ id: 'e2', name: 'zeta' }),
      endpoint({ id: 'e1', name: 'alpha' }),
      endpoint({ id: 'e3', name: 'shared', owner: 'carol' })
    ]
  };

  it('offers the user’s own endpoints and keeps the chosen in their order', async () => {
    const choice = new JobEndpointChoice(api);
    await choice.load();
    expect(choice.options.map(ep => ep.name)).toEqual(['alpha', 'zeta']);
    expect(choice.toggle([], 'zeta', true)).toEqual(['zeta']);
    expect(choice.toggle(['zeta'], 'alpha', true)).toEqual(['alpha', 'zeta']);
    expect(choice.toggle(['alpha', 'zeta'], 'alpha', false)).toEqual(['zeta']);
  });

  it('puts them in the request, at most a few', () => {
    const errors: Record<string, string> = {};
    expect(
      JobData.request({ ...JobData.EMPTY, endpoints: ['alpha'] }, trans, errors)
    ).toEqual({ endpoints: ['alpha'] });
    expect(JobData.request(JobData.EMPTY, trans, errors)).toEqual({});
    JobData.request(
      { ...JobData.EMPTY, endpoints: ['a', 'b', 'c', 'd', 'e'] },
      trans,
      errors
    );
    expect(errors['endpoints']).toBe('A job may call at most 4 endpoints.');
  });

  it('render as checkboxes, the chosen ones checked', async () => {
    const choice = new JobEndpointChoice(api);
    await choice.load();
    const html = render(
      <JobEndpointsField
        choice={choice}
        rows={{ ...JobData.EMPTY, endpoints: ['zeta'] }}
        onChange={() => undefined}
      />
    );
    expect(text(html)).toContain('alpha tiny-random, ready');
    expect(html.match(/checked=""/g)).toHaveLength(1);
    expect(html.indexOf('alpha')).toBeLessThan(html.indexOf('zeta'));
  });
});
