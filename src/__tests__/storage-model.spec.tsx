/**
 * @jest-environment node
 */
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { StorageModel } from '../storage/StorageModel';
import type { Upload } from '../storage/upload';
import { StorageSection } from '../storage/StorageSection';
import { TranslatorContext } from '../ui/translator';
import { identityTrans } from './helpers';
import { FakeStorageApi, entry, tier, transfer } from './storage-fakes';

// The JupyterLab UI packages are ES modules that this Jest setup does not
// transform: stand-ins just good enough to render the section's markup.
jest.mock('@jupyterlab/ui-components', () => {
  const { createElement } = jest.requireActual<typeof React>('react');
  const icon = { react: () => null };
  return new Proxy(
    {
      Button: (props: React.ButtonHTMLAttributes<HTMLButtonElement>) =>
        createElement(
          'button',
          {
            'aria-label': props['aria-label'],
            disabled: props.disabled,
            title: props.title
          },
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
jest.mock('@jupyterlab/translation', () => ({
  nullTranslator: { load: () => ({ __: (text: string) => text }) }
}));

const outreach = tier({
  name: 'outreach',
  title: 'Outreach',
  class: 'public',
  adapter: 's3',
  links: true,
  directUpload: true
});
const sensitive = tier({
  name: 'sensitive',
  title: 'Sensitive',
  class: 'sensitive',
  adapter: 's3',
  audited: true,
  codeAccess: false,
  groups: ['medical'],
  usage: {
    medical: {
      bytes: 5 * 1024 ** 3,
      quotaBytes: 5 * 1024 ** 3,
      measuredAt: null
    }
  }
});

const DAY = 24 * 3600 * 1000;

function link(
  id: string,
  revokedAt: string | null = null,
  expiresAt = new Date(Date.now() + 7 * DAY).toISOString()
) {
  return {
    id,
    tier: 'outreach',
    path: 'poster.pdf',
    url: `http://127.0.0.1:8000/services/hpc-bridge/api/v1/public/links/${id}`,
    createdAt: new Date(Date.now() - DAY).toISOString(),
    expiresAt,
    revokedAt
  };
}

describe('StorageModel', () => {
  it('loads the tiers and the live links of public tiers only', async () => {
    const api = new FakeStorageApi();
    api.tierList = [tier(), outreach, sensitive];
    api.linkList = [
      link('aaaaaaaaaaaaaaaa'),
      link('bbbbbbbbbbbbbbbb', new Date().toISOString()),
      link('cccccccccccccccc', null, new Date(Date.now() - DAY).toISOString())
    ];
    const model = new StorageModel({ api });
    expect(model.loading).toBe(true);
    await model.refresh();
    expect(model.loading).toBe(false);
    expect(model.tiers.map(t => t.name)).toEqual([
      'scratch',
      'outreach',
      'sensitive'
    ]);
    expect(api.calls.filter(c => c.startsWith('links'))).toEqual([
      'links outreach'
    ]);
    expect(model.links('outreach').map(l => l.id)).toEqual([
      'aaaaaaaaaaaaaaaa'
    ]);
  });

  it('keeps the error of a failed refresh', async () => {
    const api = new FakeStorageApi();
    api.failWith = new Error('Cannot reach the HPC Bridge');
    const model = new StorageModel({ api });
    await model.refresh();
    expect(model.error?.message).toBe('Cannot reach the HPC Bridge');
  });

  it('emits the mounted set on mount and unmount, not on restore', () => {
    const model = new StorageModel({ api: new FakeStorageApi() });
    const seen: string[][] = [];
    model.mountedChanged.connect((_, mounted) => seen.push([...mounted]));
    model.restoreMounted(['project']);
    model.mount('scratch');
    model.mount('scratch');
    model.unmount('project');
    expect(seen).toEqual([['project', 'scratch'], ['scratch']]);
  });

  it('tracks an upload with its progress and records a failure', async () => {
    const api = new FakeStorageApi();
    const model = new StorageModel({
      api,
      upload: async (options: Upload.IOptions) => {
        options.onProgress?.({
          mode: 'stream',
          phase: 'upload',
          loaded: 2,
          total: 4
        });
        expect(model.transfers[0]).toMatchObject({
          loaded: 2,
          total: 4,
          state: 'running',
          path: options.path
        });
        if (options.path.endsWith('b.csv')) {
          throw new Error('Quota exceeded: nothing was written.');
        }
        return entry(options.path);
      }
    });
    await model.refresh();
    const file = new File(['abcd'], 'a.csv');
    await model.upload('scratch', file, 'in');
    expect(model.transfers[0]).toMatchObject({ state: 'completed' });
    model.dismiss(model.transfers[0].id);
    expect(model.transfers).toHaveLength(0);

    await expect(
      model.upload('scratch', new File(['abcd'], 'b.csv'), 'in')
    ).rejects.toThrow('Quota exceeded');
    expect(model.transfers[0]).toMatchObject({
      state: 'failed',
      error: 'Quota exceeded: nothing was written.'
    });
  });

  it('follows a copy between tiers until it completes', async () => {
    const api = new FakeStorageApi();
    api.transfers = [
      transfer({ id: 'c1', bytesDone: 0 }),
      transfer({ id: 'c1', bytesDone: 5 }),
      transfer({ id: 'c1', bytesDone: 10, state: 'completed' })
    ];
    const model = new StorageModel({ api, transferPollMs: 0 });
    const done = await model.copy(
      { tier: 'scratch', path: 'a.csv' },
      { tier: 'archive', path: 'keep/a.csv' }
    );
    expect(done.state).toBe('completed');
    expect(api.calls).toContain('copy scratch:a.csv archive:keep/a.csv');
    expect(model.transfers[0]).toMatchObject({
      kind: 'copy',
      loaded: 10,
      total: 10,
      state: 'completed'
    });
  });

  it('adds and revokes share links', async () => {
    const api = new FakeStorageApi();
    api.tierList = [outreach];
    const model = new StorageModel({ api });
    await model.refresh();
    const created = await model.createLink('outreach', 'poster.pdf', 3600);
    expect(model.links('outreach')).toEqual([created]);
    await model.revokeLink(created);
    expect(api.calls).toContain(`revokeLink ${created.id}`);
    expect(model.links('outreach')).toEqual([]);
  });

  it('formats bytes and computes quota fractions per scope', () => {
    expect(StorageModel.formatBytes(512)).toBe('512 B');
    expect(StorageModel.formatBytes(1536)).toBe('1.5 KiB');
    expect(StorageModel.formatBytes(20 * 1024 ** 3)).toBe('20 GiB');
    expect(StorageModel.usage(sensitive)).toEqual([
      {
        scope: 'medical',
        bytes: 5 * 1024 ** 3,
        quotaBytes: 5 * 1024 ** 3,
        fraction: 1
      }
    ]);
  });
});

describe('StorageSection', () => {
  const actions: StorageSection.IActions = {
    onMount: jest.fn(),
    onUnmount: jest.fn(),
    onUpload: jest.fn(),
    onShareLink: jest.fn(),
    onUseInCode: jest.fn(),
    onCopyToTier: jest.fn(),
    onRevokeLink: jest.fn(),
    onCopyLink: jest.fn(),
    onCancelTransfer: jest.fn(),
    onDismissTransfer: jest.fn()
  };

  function render(view: Partial<StorageSection.IView>): string {
    return renderToStaticMarkup(
      <TranslatorContext.Provider value={identityTrans()}>
        <StorageSection
          view={{
            tiers: [],
            mounted: new Set(),
            links: () => [],
            transfers: [],
            error: null,
            loading: false,
            refresh: async () => undefined,
            ...view
          }}
          actions={actions}
        />
      </TranslatorContext.Provider>
    );
  }

  it('offers links on public tiers and says why not on a sensitive one', () => {
    const html = render({
      tiers: [outreach, sensitive],
      mounted: new Set(['outreach']),
      links: name => (name === 'outreach' ? [link('aaaaaaaaaaaaaaaa')] : [])
    });
    expect(html).toContain('aria-label="Unmount outreach"');
    expect(html).toContain('aria-label="Mount sensitive"');
    expect(html).toMatch(
      /<button aria-label="Share link from outreach" title="An anonymous link with an expiry">/
    );
    expect(html).toMatch(
      /<button aria-label="Share link from sensitive" disabled="" title="Share links are only possible on public tiers; sensitive is a sensitive tier.">/
    );
    expect(html).toMatch(
      /<button aria-label="Use sensitive in code" disabled=""/
    );
    expect(html).toContain('aria-label="Revoke the link to poster.pdf"');
    expect(html).toContain('audited');
    expect(html).toContain('aria-valuenow="100"');
  });

  it('shows a transfer with a progress bar at the tier it started from', () => {
    const html = render({
      tiers: [tier({ name: 'archive', title: 'Archive' }), tier()],
      transfers: [
        {
          id: 't1',
          kind: 'upload',
          label: 'big.bin',
          origin: 'archive',
          tier: 'archive',
          path: 'big.bin',
          loaded: 512,
          total: 1024,
          phase: 'upload',
          mode: 'direct',
          state: 'running',
          error: null
        }
      ]
    });
    expect(html).toContain('role="progressbar"');
    expect(html).toContain('aria-valuenow="50"');
    expect(html).toContain('straight to S3');
    expect(html).toContain('aria-label="Cancel big.bin"');
    const archive = html.indexOf('aria-label="Tier archive"');
    const scratch = html.indexOf('aria-label="Tier scratch"');
    const transfers = html.indexOf('aria-label="Transfers of archive"');
    expect(archive).toBeGreaterThanOrEqual(0);
    expect(transfers).toBeGreaterThan(archive);
    expect(transfers).toBeLessThan(scratch);
  });
});
