/**
 * @jest-environment node
 */
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { ClusterDown, DataChecks } from '../jobs/SubmitFormParts';

// @jupyterlab/translation is an ES module this Jest setup does not transform.
jest.mock('@jupyterlab/translation', () => ({
  nullTranslator: {
    load: () => ({
      __: (text: string, ...args: unknown[]) =>
        text.replace(/%(\d)/g, (_, i: string) => String(args[Number(i) - 1]))
    })
  }
}));

const NONE = { inputs: [], outputs: [], warnings: [], errors: [] };

describe('DataChecks', () => {
  it("shows the estimate's refusals of the declared data as an alert and its warnings", () => {
    const html = renderToStaticMarkup(
      <DataChecks
        data={{
          ...NONE,
          errors: [
            {
              code: 'not_found',
              message: 'project:ml101/nope.csv: no such file or folder',
              uri: 'project:ml101/nope.csv'
            }
          ],
          warnings: [
            'A sensitive input (sensitive) keeps the job on compliant partitions (secure)'
          ]
        }}
      />
    );
    expect(html).toContain('role="alert"');
    expect(html).toContain(
      '<li>project:ml101/nope.csv: no such file or folder</li>'
    );
    expect(html).toContain(
      '<li>A sensitive input (sensitive) keeps the job on compliant partitions (secure)</li>'
    );
  });

  it('shows nothing when the data passes, or without data', () => {
    expect(renderToStaticMarkup(<DataChecks data={NONE} />)).toBe('');
    expect(renderToStaticMarkup(<DataChecks data={undefined} />)).toBe('');
  });
});

describe('ClusterDown', () => {
  it("names the chosen profile's cluster that is down and the bridge's reason", () => {
    const html = renderToStaticMarkup(
      <ClusterDown
        cluster={{
          name: 'demo2',
          title: 'Second demo cluster',
          status: 'down',
          error: 'slurmctld of demo2 not reachable: connect failure',
          partitions: [],
          updatedAt: '2026-12-07T10:00:00.000Z'
        }}
      />
    );
    expect(html).toContain('role="alert"');
    expect(html).toContain(
      'Cluster Second demo cluster is down (slurmctld of demo2 not reachable: connect failure).'
    );
  });

  it('shows nothing while the cluster is up or not known', () => {
    expect(renderToStaticMarkup(<ClusterDown cluster={null} />)).toBe('');
  });
});
