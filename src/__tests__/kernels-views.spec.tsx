/**
 * @jest-environment node
 */
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { AdminModel } from '../admin/AdminModel';
import { KernelsView } from '../admin/KernelsView';
import { KernelStatusItem } from '../kernels/widgets/KernelStatusItem';
import { TranslatorContext } from '../ui/translator';
import { identityTrans } from './helpers';
import { clusterKernel } from './kernels-fakes';

// The JupyterLab UI packages are ES modules that this Jest setup does not
// transform: stand-ins good enough to render the markup.
jest.mock('@jupyterlab/statusbar', () => {
  const { createElement } = jest.requireActual<typeof React>('react');
  return {
    TextItem: (props: { source: string; className?: string }) =>
      createElement('span', { className: props.className }, props.source)
  };
});
jest.mock('@jupyterlab/ui-components', () => ({
  ReactWidget: class {},
  UseSignal: () => null
}));
jest.mock('@jupyterlab/translation', () => ({
  nullTranslator: { load: () => ({ __: (text: string) => text }) }
}));
jest.mock('../ui/SectionWidget', () => ({ SectionWidget: class {} }));

const trans = identityTrans();
const render = (element: React.ReactElement) =>
  renderToStaticMarkup(
    <TranslatorContext.Provider value={trans}>
      {element}
    </TranslatorContext.Provider>
  );

describe('KernelStatusItem.View', () => {
  const onClick = () => undefined;

  it('renders nothing for a local kernel', () => {
    expect(
      render(<KernelStatusItem.View kernel={null} now={0} onClick={onClick} />)
    ).toBe('');
  });

  it('shows the running kernel as a button with its state class', () => {
    const now = Date.parse('2026-12-07T10:00:00.000Z');
    const html = render(
      <KernelStatusItem.View
        kernel={clusterKernel({
          walltimeEnd: new Date(now + 42 * 60_000).toISOString()
        })}
        now={now}
        onClick={onClick}
      />
    );
    expect(html).toContain('role="button"');
    expect(html).toContain('jp-mod-running');
    expect(html).toContain('Cluster: node1 · job 123 · 42 min left');
  });
});

describe('Admin KernelsView', () => {
  it('lists user, profile, node, job and state in the admin table', () => {
    const model = {
      kernels: [clusterKernel({ owner: 'bob', slurmId: '456' })]
    } as unknown as AdminModel;
    const html = render(<KernelsView model={model} />);
    expect(html).toContain('aria-label="Cluster kernels"');
    for (const text of ['bob', 'cpu-small', 'node1', '456', 'running']) {
      expect(html).toContain(`>${text}<`);
    }
  });

  it('says when no cluster kernel runs', () => {
    const model = { kernels: [] } as unknown as AdminModel;
    expect(render(<KernelsView model={model} />)).toContain(
      'No cluster kernels are running.'
    );
  });
});
