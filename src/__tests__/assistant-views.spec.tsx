/**
 * @jest-environment node
 */
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { ChatModel } from '../assistant/ChatModel';
import { AssistantStatusItem } from '../assistant/widgets/AssistantStatusItem';
import { ChatPanel } from '../assistant/widgets/ChatPanel';
import { TranslatorContext } from '../ui/translator';
import { assistantEndpoint, loadedModel, settle } from './assistant-fakes';
import { identityTrans } from './helpers';

// The JupyterLab UI packages are ES modules that this Jest setup does not
// transform: stand-ins good enough to render the markup.
jest.mock('@jupyterlab/statusbar', () => {
  const { createElement } = jest.requireActual<typeof React>('react');
  return {
    TextItem: (props: { source: string }) =>
      createElement('span', null, props.source)
  };
});
jest.mock('@jupyterlab/ui-components', () => {
  const { createElement } = jest.requireActual<typeof React>('react');
  return {
    ReactWidget: class {},
    UseSignal: () => null,
    Button: (props: Record<string, unknown>) =>
      createElement('button', {
        className: props.className,
        disabled: props.disabled
      }),
    LabIcon: class {},
    addIcon: { react: () => null },
    deleteIcon: { react: () => null }
  };
});
jest.mock('@jupyterlab/translation', () => ({
  nullTranslator: { load: () => ({ __: (text: string) => text }) }
}));
jest.mock('@jupyterlab/rendermime', () => ({ MimeModel: class {} }));
jest.mock('../icons', () => ({ hpcBridgeIcon: {} }));

const trans = identityTrans();
const render = (element: React.ReactElement) =>
  renderToStaticMarkup(
    <TranslatorContext.Provider value={trans}>
      {element}
    </TranslatorContext.Provider>
  );

describe('AssistantStatusItem.View', () => {
  it('shows the model and tokens left, nothing without an endpoint', () => {
    const props = { problem: null, inline: true, onClick: () => undefined };
    expect(
      render(
        <AssistantStatusItem.View endpoint={assistantEndpoint()} {...props} />
      )
    ).toContain('✦ tiny-random · 1,234 tokens left');
    expect(
      render(<AssistantStatusItem.View endpoint={null} {...props} />)
    ).toBe('');
  });
});

describe('ChatPanel.View', () => {
  it('keeps the hooks of the UI tests on messages, input and buttons', async () => {
    const { api, model } = await loadedModel();
    const chat = new ChatModel({ assistant: model });
    const sending = chat.send('Hi');
    await settle();
    api.stream.push('Hello');
    api.stream.end();
    await sending;
    const html = render(
      <ChatPanel.View
        model={chat}
        trans={trans}
        rendermime={null}
        selectedCells={() => null}
        insertCell={() => true}
      />
    );
    expect(html).toContain('class="hpcb-ChatPanel-context"');
    expect(html).toContain('hpcb-ChatPanel-input');
    expect(html).toContain('hpcb-ChatPanel-send');
    expect(html).toMatch(/class="[^"]*hpcb-ChatMessage[^"]*" data-role="user"/);
    expect(html).toMatch(
      /class="[^"]*hpcb-ChatMessage[^"]*" data-role="assistant"/
    );
    expect(html).toContain('hpcb-ChatMessage-insert');
    expect(html).not.toContain('hpcb-ChatPanel-error');
  });
});
