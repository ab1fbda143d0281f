/**
 * @jest-environment node
 */
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { Placement } from '../endpoints/placement';
import { EndpointsModel } from '../endpoints/EndpointsModel';
import { TierChoice } from '../storage/TierChoice';
import { EndpointCreateForm } from '../endpoints/EndpointCreateForm';
import { EndpointsSection } from '../endpoints/EndpointsSection';
import { TranslatorContext } from '../ui/translator';
import { identityTrans } from './helpers';
import { TIERS } from './tier-fakes';
import {
  CATALOG,
  CLOUD_CATALOG,
  FakeEndpointsApi,
  endpoint
} from './endpoints-fakes';
import { EndpointForm } from '../endpoints/createForm';

// The JupyterLab UI packages are ES modules that this Jest setup does not
// transform: stand-ins just good enough to render the markup.
jest.mock('@jupyterlab/ui-components', () => {
  const { createElement } = jest.requireActual<typeof React>('react');
  const icon = { react: () => null };
  return new Proxy(
    {
      Button: (props: React.ButtonHTMLAttributes<HTMLButtonElement>) =>
        createElement(
          'button',
          { 'aria-label': props['aria-label'], disabled: props.disabled },
          props.children
        ),
      ReactWidget: class {},
      UseSignal: () => null
    },
    {
      get: (target: Record<string, unknown>, name: string) =>
        name in target ? target[name] : icon
    }
  );
});
jest.mock('@jupyterlab/apputils', () => ({
  Clipboard: { copyToSystem: jest.fn() },
  Dialog: {},
  showDialog: jest.fn()
}));
jest.mock('@jupyterlab/translation', () => ({
  nullTranslator: { load: () => ({ __: (text: string) => text }) }
}));

const cloud = Placement.provider(CLOUD_CATALOG, 'openstack')!;
const tiny = CLOUD_CATALOG.models[0];

/** Visible text of rendered markup, tags dropped. */
function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/&#x27;/g, "'");
}

describe('Placement: the cloud side of a request', () => {
  it('maps a GPU count to the flavor with exactly that many GPUs', () => {
    expect(Placement.flavorFor(cloud, 1)).toEqual({
      flavor: { name: 'g1.gpu', gpus: 1, vcpus: 4, ramMB: 8192 }
    });
    expect(Placement.flavorFor(cloud, 0)).toMatchObject({
      flavor: { name: 'm1.small' }
    });
    expect(Placement.flavorFor(cloud, 3)).toEqual({ offered: [0, 1, 2] });
    // Not a cloud, or the cloud could not be asked: nothing to map.
    expect(Placement.flavorFor(Placement.provider(CATALOG, 'slurm')!, 1)).toBe(
      null
    );
  });

  it('tells the quota left, -1 meaning unlimited, never below zero', () => {
    expect(
      Placement.quotaLeft({
        instances: { used: 9, limit: 10 },
        cores: { used: 25, limit: 20 },
        ramMB: { used: 100, limit: -1 },
        gpus: { used: 1, limit: 2 }
      })
    ).toEqual({
      instances: { left: 1, limit: 10 },
      cores: { left: 0, limit: 20 },
      ramMB: { left: null, limit: null },
      gpus: { left: 1, limit: 2 }
    });
  });

  it('names each quota one more server of the flavor would exceed', () => {
    const left = Placement.quotaLeft(cloud.quota!);
    const g1 = { name: 'g1.gpu', gpus: 1, vcpus: 4, ramMB: 8192 };
    expect(Placement.shortages(left, g1)).toEqual([
      { what: 'cores', needed: 4, left: 2 }
    ]);
    expect(
      Placement.shortages(left, { ...g1, vcpus: 2, ramMB: 1 << 30 })
    ).toEqual([]);
    expect(
      Placement.shortages(
        Placement.quotaLeft({
          instances: { used: 1, limit: 1 },
          cores: { used: 0, limit: 20 },
          ramMB: { used: 0, limit: 4096 },
          gpus: { used: 2, limit: 2 }
        }),
        g1
      )
    ).toEqual([
      { what: 'instances', needed: 1, left: 0 },
      { what: 'ramMB', needed: 8192, left: 4096 },
      { what: 'gpus', needed: 1, left: 0 }
    ]);
  });

  it("offers the model's other configured providers as fallbacks", () => {
    expect(Placement.fallbackChoices(CLOUD_CATALOG, tiny, 'openstack')).toEqual(
      ['local', 'slurm']
    );
    expect(Placement.fallbackChoices(CLOUD_CATALOG, tiny, 'local')).toEqual([
      'slurm',
      'openstack'
    ]);
    // openstack is not configured in CATALOG: not offered even if listed.
    expect(Placement.fallbackChoices(CATALOG, { ...tiny }, 'slurm')).toEqual([
      'local'
    ]);
    expect(
      Placement.fallbackChoices(
        CLOUD_CATALOG,
        CLOUD_CATALOG.models[1],
        'openstack'
      )
    ).toEqual([]);
  });
});

describe('EndpointsModel: the fallback in the create form', () => {
  const form = (): EndpointForm.ICreateForm => ({
    ...EndpointForm.defaults(CLOUD_CATALOG, tiny),
    name: 'cloudy',
    provider: 'openstack'
  });

  it('sends the fallback only when one other than the provider is chosen', () => {
    expect(EndpointForm.createRequest(form())).not.toHaveProperty('fallback');
    expect(
      EndpointForm.createRequest({ ...form(), fallback: 'slurm' })
    ).toMatchObject({ provider: 'openstack', fallback: 'slurm' });
    expect(
      EndpointForm.createRequest({ ...form(), fallback: 'openstack' })
    ).not.toHaveProperty('fallback');
  });

  it('drops the fallback when the provider becomes the fallback', () => {
    const chosen = { ...form(), fallback: 'slurm' as const };
    expect(EndpointForm.withProvider(chosen, 'local').fallback).toBe('slurm');
    expect(EndpointForm.withProvider(chosen, 'slurm')).toMatchObject({
      provider: 'slurm',
      fallback: ''
    });
  });

  it('reads the catalog again for the dialog, keeping the last one if the bridge is away', async () => {
    const api = new FakeEndpointsApi();
    const model = new EndpointsModel({ api });
    api.failCatalogWith = new Error('The HPC Bridge does not answer');
    await expect(model.refreshCatalog()).rejects.toThrow('does not answer');

    api.failCatalogWith = null;
    api.catalogAnswer = CLOUD_CATALOG;
    await model.refreshCatalog();
    const quota = (catalog: typeof CLOUD_CATALOG | null) =>
      catalog?.providers.find(p => p.name === 'openstack')?.quota?.instances;
    expect(quota(model.catalog)).toEqual({ used: 9, limit: 10 });

    api.catalogAnswer = {
      ...CLOUD_CATALOG,
      providers: CLOUD_CATALOG.providers.map(p =>
        p.quota
          ? { ...p, quota: { ...p.quota, instances: { used: 10, limit: 10 } } }
          : p
      )
    };
    await model.refreshCatalog();
    expect(quota(model.catalog)).toEqual({ used: 10, limit: 10 });

    api.failCatalogWith = new Error('The HPC Bridge does not answer');
    expect(quota(await model.refreshCatalog())).toEqual({
      used: 10,
      limit: 10
    });
    model.dispose();
  });
});

describe('The create dialog on the cloud', () => {
  function render(value: Partial<EndpointForm.ICreateForm>): string {
    return renderToStaticMarkup(
      <TranslatorContext.Provider value={identityTrans()}>
        <EndpointCreateForm
          context={{
            catalog: CLOUD_CATALOG,
            groups: [],
            courses: [],
            tiers: [],
            tiersError: null
          }}
          value={{
            ...EndpointForm.defaults(CLOUD_CATALOG, tiny),
            provider: 'openstack',
            ...value
          }}
          error={null}
          onChange={() => undefined}
        />
      </TranslatorContext.Provider>
    );
  }

  it('shows the flavor of the GPU count, the quota left and what would not fit', () => {
    const shown = text(render({ gpus: 1 }));
    expect(shown).toContain('Demo cloud (OpenStack)');
    expect(shown).toContain('g1.gpu (GPUs 1 · vCPUs 4 · RAM 8192 MB)');
    expect(shown).toContain(
      'instances 1 of 10 · cores 2 of 20 · RAM unlimited'
    );
    expect(shown).toContain(
      'Not enough quota left for one more server: cores (needs 4, 2 left).'
    );
    expect(shown).toContain('Choose a fallback below');
    expect(text(render({ gpus: 1, fallback: 'slurm' }))).toContain(
      'A replica will start on SLURM GPU partition instead.'
    );
    expect(text(render({ gpus: 0 }))).not.toContain('Not enough quota');
  });

  it('offers the other providers as fallback, and says so when no flavor fits', () => {
    const html = render({ gpus: 3 });
    expect(text(html)).toContain(
      'None for 3 GPUs; this cloud offers flavors for 0, 1, 2 GPUs'
    );
    const fallback = html.match(
      /If it cannot start there, use:<\/span><select[^>]*>(.*?)<\/select>/
    );
    expect(fallback?.[1]).toBe(
      '<option value="" selected="">No fallback</option>' +
        '<option value="local">Bridge host (development)</option>' +
        '<option value="slurm">SLURM GPU partition</option>'
    );
  });

  it("shows the cloud's problem instead of flavor and quota", () => {
    const catalog = {
      ...CLOUD_CATALOG,
      providers: CLOUD_CATALOG.providers.map(p =>
        p.name === 'openstack'
          ? {
              name: p.name,
              title: p.title,
              problem: 'The cloud Demo cloud does not answer.'
            }
          : p
      )
    };
    const shown = text(
      renderToStaticMarkup(
        <TranslatorContext.Provider value={identityTrans()}>
          <EndpointCreateForm
            context={{
              catalog,
              groups: [],
              courses: [],
              tiers: [],
              tiersError: null
            }}
            value={{
              ...EndpointForm.defaults(catalog, tiny),
              provider: 'openstack'
            }}
            error={null}
            onChange={() => undefined}
          />
        </TranslatorContext.Provider>
      )
    );
    expect(shown).toContain(
      'Flavors and quota are not known: The cloud Demo cloud does not answer.'
    );
    expect(shown).not.toContain('GPU flavor');
  });

  it('shows no cloud facts for a provider that is not a cloud', () => {
    expect(text(render({ provider: 'slurm' }))).not.toContain('Quota left');
  });
});

describe('Where replicas run', () => {
  const onCloud = endpoint({
    provider: 'openstack',
    fallback: 'slurm',
    replicas: [
      {
        id: 'r1',
        provider: 'openstack',
        state: 'ready',
        ref: '6f1c',
        where: 'cloud server hpcb-e1-r1',
        address: '10.77.0.12:8080',
        reason: null,
        createdAt: '2026-11-25T10:00:00.000Z',
        readyAt: '2026-11-25T10:00:05.000Z',
        endsAt: null
      }
    ]
  });
  const onFallback = endpoint({
    provider: 'openstack',
    fallback: 'slurm',
    fallbackReason:
      'The cloud has no free GPU of this kind right now (No valid host was found).',
    replicas: [
      { ...onCloud.replicas[0], state: 'stopped', address: null },
      {
        ...onCloud.replicas[0],
        id: 'r2',
        provider: 'slurm',
        ref: '42',
        where: 'SLURM job 42',
        address: '127.0.0.1:40123'
      }
    ]
  });

  it('names the provider and the place of a replica', () => {
    expect(Placement.replicaPlace(CLOUD_CATALOG, onCloud.replicas[0])).toBe(
      'Demo cloud (OpenStack): cloud server hpcb-e1-r1'
    );
    expect(
      Placement.replicaPlace(null, { ...onCloud.replicas[0], where: null })
    ).toBe('openstack: 6f1c');
  });

  it('says why an endpoint runs on its fallback, and nothing on the primary', () => {
    expect(Placement.fallbackNote(CLOUD_CATALOG, onCloud)).toBeNull();
    expect(Placement.fallbackNote(CLOUD_CATALOG, onFallback)).toEqual({
      provider: 'SLURM GPU partition',
      reason:
        'The cloud has no free GPU of this kind right now (No valid host was found).'
    });
    expect(
      EndpointsSection.EndpointItem.clause(
        'The cloud has no free GPU of this kind right now (No valid host was found).'
      )
    ).toBe(
      'the cloud has no free GPU of this kind right now (No valid host was found)'
    );
    expect(EndpointsSection.EndpointItem.clause('SLURM queue is full')).toBe(
      'SLURM queue is full'
    );
  });

  it('says why a replica asked for waits, until it runs', () => {
    const building =
      'The model server is still being built on this machine; the endpoint starts when it is ready.';
    const waiting = endpoint({
      state: 'starting',
      replicas: [
        {
          ...onCloud.replicas[0],
          provider: 'local',
          state: 'pending',
          address: null,
          reason: building
        }
      ]
    });
    expect(EndpointsSection.EndpointItem.waiting(waiting)).toBe(building);
    expect(EndpointsSection.EndpointItem.waiting(onCloud)).toBeNull();
  });

  it('shows the fallback note by the state and each replica with its place', async () => {
    const api = new FakeEndpointsApi();
    api.catalogAnswer = CLOUD_CATALOG;
    api.endpoints = [onFallback];
    const model = new EndpointsModel({ api });
    await model.refresh();
    model.toggle(onFallback.id);
    const shown = text(
      renderToStaticMarkup(
        <TranslatorContext.Provider value={identityTrans()}>
          <EndpointsSection.EndpointItem
            endpoint={onFallback}
            model={model}
            actions={{
              onCreate: jest.fn(),
              onRetry: jest.fn(),
              onToggle: jest.fn(),
              onStart: jest.fn(),
              onStop: jest.fn(),
              onDelete: jest.fn(),
              onCreateKey: jest.fn(),
              onRevokeKey: jest.fn(),
              onSend: jest.fn()
            }}
          />
        </TranslatorContext.Provider>
      )
    );
    expect(shown).toContain(
      'Running on SLURM GPU partition because the cloud has no free GPU of this kind right now (No valid host was found)'
    );
    expect(shown).toContain(
      'SLURM GPU partition, when Demo cloud (OpenStack) cannot place a replica'
    );
    expect(shown).toContain(
      'ready SLURM GPU partition: SLURM job 42 127.0.0.1:40123'
    );
    expect(shown).toContain(
      'stopped Demo cloud (OpenStack): cloud server hpcb-e1-r1 —'
    );
    model.dispose();
  });
});

describe('The create dialog: storage tiers', () => {
  const model = CATALOG.models[0]!;
  function render(tiers: string[], error: string | null = null): string {
    return renderToStaticMarkup(
      <TranslatorContext.Provider value={identityTrans()}>
        <EndpointCreateForm
          context={{
            catalog: CATALOG,
            groups: [],
            courses: [],
            tiers: TierChoice.options(TIERS),
            tiersError: null
          }}
          value={{ ...EndpointForm.defaults(CATALOG, model), tiers }}
          error={error}
          onChange={() => undefined}
        />
      </TranslatorContext.Provider>
    );
  }

  it('offers the tiers and warns about the rule once a sensitive one is chosen', () => {
    expect(text(render([]))).toContain('Storage tiers (optional)');
    expect(text(render([]))).not.toContain('only a provider approved for it');
    expect(text(render(['sensitive:medical']))).toContain(
      'only a provider approved for it may run the replicas'
    );
  });

  it("shows the bridge's refusal above the fields it keeps", () => {
    const refusal =
      "Refused by the data-class rule 'sensitive data only on compliant serving providers': …";
    const html = render(['sensitive:medical'], refusal);
    expect(text(html).replace(/&#x27;/g, "'")).toContain(refusal);
    expect(html.match(/checked=""/g)).toHaveLength(1);
  });
});
