/**
 * @jest-environment node
 */
import type { Job } from '@hpc-bridge/server/contract';
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { JobDataView } from '../jobs/JobDataView';
import { TranslatorContext } from '../ui/translator';
import { identityTrans } from './helpers';

// @jupyterlab/translation is an ES module this Jest setup does not transform.
jest.mock('@jupyterlab/translation', () => ({
  nullTranslator: { load: () => ({ __: (text: string) => text }) }
}));

const version = { size: 2, lastModified: '2026-01-10T12:00:00.000Z' };

describe('JobDataView', () => {
  it('lists an input with {element} once per element, with the file that element read', () => {
    const job = {
      isArray: true,
      inputs: [0, 1].map(element => ({
        uri: 'project:ml101/part-{element}.csv',
        tier: 'project',
        path: `ml101/part-${element}.csv`,
        folder: false,
        version,
        element
      })),
      outputs: []
    } as unknown as Job;
    const html = renderToStaticMarkup(
      <TranslatorContext.Provider value={identityTrans()}>
        <JobDataView job={job} onShowLineage={() => undefined} />
      </TranslatorContext.Provider>
    );
    const text = html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain('project:ml101/part-0.csv element 0');
    expect(text).toContain('project:ml101/part-1.csv element 1');
  });
});
