/**
 * @jest-environment node
 */
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { DataChecks } from '../jobs/SubmitFormParts';

// @jupyterlab/translation is an ES module this Jest setup does not transform.
jest.mock('@jupyterlab/translation', () => ({
  nullTranslator: { load: () => ({ __: (text: string) => text }) }
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
