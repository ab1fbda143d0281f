import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config';
import {
  modelCatalog,
  resolveServingResources
} from '../../src/endpoints/catalog';
import { SERVING_CONFIG } from './endpoints-fakes';

const BASE = {
  basePath: '/services/hpc-bridge/',
  hub: { apiUrl: 'http://hub.invalid/hub/api', apiToken: { value: 't' } },
  store: { path: ':memory:' }
};

function problems(raw: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...BASE, ...raw }, 'c.yaml', {});
  } catch (e) {
    if (e instanceof ConfigError) {
      return e.problems;
    }
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('serving config', () => {
  it("accepts the stack's serving blocks (local provider) with defaults", () => {
    const stack = parse(
      readFileSync(
        join(
          __dirname,
          '..',
          '..',
          '..',
          'stack',
          'conf',
          'bridge-config.yaml'
        ),
        'utf8'
      ).replaceAll(/@[A-Z_]+@/g, '/stack')
    ) as {
      serving: { providers: Record<string, unknown> };
      recipes: unknown[];
      models: { providers: string[] }[];
    };
    // Only the serving blocks: the stack's clusters need its host keys and secrets.
    delete stack.serving.providers.slurm;
    for (const m of stack.models) {
      m.providers = ['local'];
    }
    const config = parseConfig(
      {
        ...BASE,
        serving: stack.serving,
        recipes: stack.recipes,
        models: stack.models
      },
      'c.yaml',
      {}
    );
    expect(config.serving).toMatchObject({
      publicUrl: 'http://127.0.0.1:8000',
      holdSeconds: 120,
      handoverMinutes: 5,
      idleMinutes: { default: 15, min: 1, max: 1440 },
      healthFailures: 3,
      maxRestarts: 3
    });
    expect(config.recipes[0]?.health).toBe('/health');
    expect(config.models.map(m => m.name)).toEqual([
      'tiny-random',
      'small-random'
    ]);
    expect(config.models[0]?.limits).toEqual(config.models[0]?.resources);
    expect(modelCatalog(config)).toMatchObject({
      gatewayUrl: 'http://127.0.0.1:8000/services/hpc-bridge/v1',
      models: [
        {
          name: 'tiny-random',
          providers: ['local'],
          resources: {
            cpus: { default: 1, min: 1, max: 1 },
            gpus: { default: 1, min: 0, max: 1 }
          }
        },
        { name: 'small-random' }
      ]
    });
  });

  it('is empty when absent', () => {
    const config = parseConfig(BASE, 'c.yaml', {});
    expect(config.models).toEqual([]);
    expect(config.serving.providers).toEqual({});
  });

  it('reports each broken cross-reference with its key path', () => {
    expect(
      problems({
        ...SERVING_CONFIG,
        serving: {
          providers: { slurm: { cluster: 'nope', partition: 'gpu' } }
        },
        models: [
          {
            ...SERVING_CONFIG.models[0],
            recipe: 'vllm',
            providers: ['local', 'openstack']
          }
        ]
      })
    ).toEqual([
      'c.yaml: serving.providers.slurm.cluster: no cluster named "nope"',
      'c.yaml: models[0].recipe: no recipe named "vllm"',
      'c.yaml: models[0].providers: none of local, openstack is configured in serving.providers'
    ]);
  });

  it('opens user models with serving.userModels: defaults, sizes, known recipes and classes', () => {
    const config = parseConfig(
      {
        ...BASE,
        ...SERVING_CONFIG,
        serving: {
          ...SERVING_CONFIG.serving,
          userModels: {
            recipes: ['llama-server'],
            tierClasses: ['archive'],
            maxBytes: '2GiB'
          }
        }
      },
      'c.yaml',
      {}
    );
    expect(config.serving.userModels).toEqual({
      recipes: ['llama-server'],
      tierClasses: ['archive'],
      maxBytes: 2 ** 31,
      providers: ['local', 'slurm'],
      resources: { cpus: 1, memoryMB: 2000, gpus: 0, timeMinutes: 60 },
      limits: { cpus: 1, memoryMB: 2000, gpus: 0, timeMinutes: 60 },
      maxTokens: 4096,
      defaultMaxTokens: 512
    });
    expect(parseConfig(BASE, 'c.yaml', {}).serving.userModels).toBeUndefined();
    expect(
      problems({
        ...SERVING_CONFIG,
        serving: {
          ...SERVING_CONFIG.serving,
          userModels: {
            recipes: ['vllm'],
            tierClasses: ['secret'],
            maxBytes: 'lots',
            providers: ['openstack']
          }
        }
      })
    ).toEqual([
      'c.yaml: serving.userModels.tierClasses[0]: Invalid option: expected one of "scratch"|"project"|"archive"|"public"|"sensitive"',
      'c.yaml: serving.userModels.maxBytes: a size such as 500MB, 10GiB or a number of bytes',
      'c.yaml: serving.userModels.providers[0]: Invalid option: expected one of "local"|"slurm"'
    ]);
    expect(
      problems({
        ...SERVING_CONFIG,
        serving: {
          ...SERVING_CONFIG.serving,
          userModels: {
            recipes: ['vllm'],
            tierClasses: ['archive'],
            maxBytes: 1
          }
        }
      })
    ).toEqual([
      'c.yaml: serving.userModels.recipes[0]: no recipe named "vllm"'
    ]);
  });

  it('checks recipes: placeholders, an absolute program, a {port}', () => {
    expect(
      problems({
        recipes: [
          { name: 'a', command: ['llama-server', '--port', '{port}'] },
          { name: 'b', command: ['/bin/x', '--key={secret}'] }
        ]
      })
    ).toEqual([
      'c.yaml: recipes[0].command[0]: the program must be an absolute path without placeholders',
      'c.yaml: recipes[1].command[1]: unknown placeholder {secret} (allowed: {model} {host} {port} {threads})',
      'c.yaml: recipes[1].command: the command must contain {port} (the provider picks the port)'
    ]);
  });

  it('checks models: limits at least the defaults, absolute paths, known providers', () => {
    const m = SERVING_CONFIG.models[0];
    expect(
      problems({
        ...SERVING_CONFIG,
        models: [
          { ...m, limits: { cpus: 0 } },
          { ...m, name: 'b', path: 'models/x.gguf', providers: ['k8s'] },
          { ...m }
        ]
      })
    ).toEqual([
      'c.yaml: models[0].limits.cpus: Too small: expected number to be >0',
      'c.yaml: models[1].path: an absolute path',
      'c.yaml: models[1].providers[0]: Invalid option: expected one of "local"|"slurm"|"openstack"',
      'c.yaml: models[2].name: duplicate name "tiny-random"'
    ]);
  });

  it("gives each model the gateway's max_tokens default and maximum", () => {
    const m = SERVING_CONFIG.models[0];
    const config = parseConfig(
      {
        ...BASE,
        ...SERVING_CONFIG,
        models: [
          m,
          { ...m, name: 'short', maxTokens: 256 },
          { ...m, name: 'set', maxTokens: 8192, defaultMaxTokens: 1024 }
        ]
      },
      'c.yaml',
      {}
    );
    expect(
      config.models.map(x => [x.name, x.defaultMaxTokens, x.maxTokens])
    ).toEqual([
      ['tiny-random', 512, 4096],
      ['short', 256, 256],
      ['set', 1024, 8192]
    ]);
    expect(
      problems({
        ...SERVING_CONFIG,
        models: [
          { ...m, maxTokens: 100, defaultMaxTokens: 200 },
          { ...m, name: 'b', maxTokens: -1 }
        ]
      })
    ).toEqual([
      'c.yaml: models[0].defaultMaxTokens: must be at most maxTokens (100)',
      'c.yaml: models[1].maxTokens: Too small: expected number to be >0'
    ]);
  });

  it('resolves resources within the model limits', () => {
    const config = parseConfig({ ...BASE, ...SERVING_CONFIG }, 'c.yaml', {});
    const model = config.models[0];
    if (model === undefined) {
      throw new Error('no model');
    }
    expect(resolveServingResources(model, { cpus: 4, timeMinutes: 5 })).toEqual(
      {
        cpus: 4,
        memoryMB: 1000,
        gpus: 0,
        timeMinutes: 5
      }
    );
    expect(() => resolveServingResources(model, { cpus: 5, gpus: 1 })).toThrow(
      'Resources outside the limits of model tiny-random: cpus=5 (allowed 1–4), gpus=1 (allowed 0–0)'
    );
  });
});
