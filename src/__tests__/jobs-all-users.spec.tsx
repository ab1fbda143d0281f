/**
 * @jest-environment node
 */
import { JobSchema, type Whoami } from '@hpc-bridge/server/contract';
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { BridgeClient } from '../core/client';
import { JobsModel } from '../jobs/JobsModel';
import { JobsSection } from '../jobs/JobsSection';
import { TranslatorContext } from '../ui/translator';
import { identityTrans, job, json, waitFor } from './helpers';

// The JupyterLab UI packages are ES modules that this Jest setup does not
// transform: stand-ins just good enough to render the section's markup.
// The "…" menu needs a browser (Lumino's commands read `navigator`).
jest.mock('../ui/MoreActions', () => ({ MoreActionsButton: () => null }));
jest.mock('@jupyterlab/ui-components', () => {
  const { createElement } = jest.requireActual<typeof React>('react');
  const icon = { react: () => null };
  return new Proxy(
    {
      Button: (props: React.ButtonHTMLAttributes<HTMLButtonElement>) =>
        createElement('button', { 'aria-label': props['aria-label'] }),
      ReactWidget: class {},
      ToolbarButtonComponent: (props: { 'aria-label'?: string }) =>
        createElement('button', { 'aria-label': props['aria-label'] }),
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

const BASE = '/services/hpc-bridge/';
const ALICE = job({ id: 'a1', owner: 'alice' });
const BOB = job({ id: 'b1', owner: 'bob', slurmId: '42' });

/**
 * A bridge behind a stubbed `fetch`: whoami answers `user`, the job list
 * answers own or all jobs by the query; the event stream never opens.
 */
function bridge(user: Whoami) {
  const urls: string[] = [];
  const fetch: BridgeClient.FetchFunction = async url => {
    urls.push(url);
    const path = new URL(url, 'http://hub').pathname.slice(BASE.length);
    if (path === 'api/v1/whoami') {
      return json(user);
    }
    if (path === 'api/v1/jobs') {
      const all = new URL(url, 'http://hub').searchParams.get('all');
      return all === 'true'
        ? json({ jobs: [ALICE, BOB] })
        : json({ jobs: [ALICE] });
    }
    throw new Error(`unavailable: ${url}`);
  };
  const client = new BridgeClient({
    baseUrl: BASE,
    getToken: () => 'secret-token',
    trans: identityTrans(),
    fetch,
    eventStream: { minDelayMs: 60_000, maxDelayMs: 60_000 }
  });
  const model = new JobsModel({ client, pollInterval: 3600_000 });
  return { model, urls };
}

function render(model: JobsModel): string {
  const noop = () => undefined;
  return renderToStaticMarkup(
    <TranslatorContext.Provider value={identityTrans()}>
      <JobsSection
        jobs={model.shown}
        matching={model.filtered.length}
        onShowMore={() => model.showMore()}
        total={model.jobs.length}
        filters={model.filters}
        selected={null}
        busy={new Set()}
        error={null}
        actionError={null}
        loading={model.loading}
        live={model.live}
        canShowAll={model.canShowAll}
        showAll={model.showAll}
        onFilters={noop}
        onShowAll={noop}
        onSelect={noop}
        onAction={noop}
        onLog={noop}
        onOpenOutput={noop}
        onRetry={async () => undefined}
      />
    </TranslatorContext.Provider>
  );
}

const jobUrls = (urls: string[]) => urls.filter(url => url.includes('/jobs'));

describe('Jobs section: all users', () => {
  it('gives admins an "All users" toggle that lists with all=true and shows owners', async () => {
    const { model, urls } = bridge({
      name: 'alice',
      groups: [],
      roles: ['admin']
    });
    await waitFor(() => !model.loading && model.user !== null);
    let html = render(model);
    expect(html).toMatch(
      /<label[^>]*><input type="checkbox"\/>All users<\/label>/
    );
    expect(html).not.toContain('alice ·');
    expect(jobUrls(urls)).toEqual([`${BASE}api/v1/jobs`]);

    model.showAll = true;
    await waitFor(() => model.jobs.length === 2);
    expect(jobUrls(urls).at(-1)).toBe(`${BASE}api/v1/jobs?all=true`);
    html = render(model);
    expect(html).toContain('checked=""');
    expect(html).toContain('bob · </span>b1 · SLURM 42');
    expect(html).toContain('alice · </span>a1 · SLURM 12');

    model.showAll = false;
    expect(model.jobs.map(j => j.id)).toEqual(['a1']);
    await waitFor(() => jobUrls(urls).length === 3);
    expect(jobUrls(urls).at(-1)).toBe(`${BASE}api/v1/jobs`);
    model.dispose();
  });

  it('has no toggle and never sends all=true for other users', async () => {
    const { model, urls } = bridge({
      name: 'alice',
      groups: [],
      roles: ['researcher']
    });
    await waitFor(() => !model.loading && model.user !== null);
    model.showAll = true;
    await model.refresh();
    expect(model.showAll).toBe(false);
    const html = render(model);
    expect(html).not.toContain('All users');
    expect(html).not.toContain('type="checkbox"');
    expect(html).not.toContain('alice ·');
    expect(jobUrls(urls).length).toBeGreaterThan(1);
    expect(urls.some(url => url.includes('all='))).toBe(false);
    expect(model.jobs.map(j => JobSchema.parse(j).owner)).toEqual(['alice']);
    model.dispose();
  });
});
