import { type IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  addIcon,
  Button,
  deleteIcon,
  ReactWidget,
  UseSignal
} from '@jupyterlab/ui-components';
import React from 'react';
import { hpcBridgeIcon } from '../../icons';
import { Alert } from '../../ui/Alert';
import { IconButton } from '../../ui/IconButton';
import { TranslatorContext, useTranslator } from '../../ui/translator';
import type { ChatModel, IChatEntry } from '../ChatModel';

/**
 * The assistant's chat in the right side area: conversations, messages with
 * the answer streaming in, and the input with the selected cells as context.
 */
export class ChatPanel extends ReactWidget {
  constructor(options: ChatPanel.IOptions) {
    super();
    this._options = options;
    this.id = ChatPanel.ID;
    this.title.icon = hpcBridgeIcon;
    this.title.caption = options.trans.__('Assistant chat');
    this.addClass('jp-hpc-ChatPanel');
    this.addClass('hpcb-ChatPanel');
  }

  render(): JSX.Element {
    const { model, trans } = this._options;
    return (
      <TranslatorContext.Provider value={trans}>
        <UseSignal signal={model.changed}>
          {() => <ChatPanel.View {...this._options} />}
        </UseSignal>
      </TranslatorContext.Provider>
    );
  }

  private readonly _options: ChatPanel.IOptions;
}

export namespace ChatPanel {
  export const ID = 'hpcb-assistant-chat';

  export interface IOptions {
    model: ChatModel;
    trans: TranslationBundle;
    /** Renders answers as markdown; without it they show as plain text. */
    rendermime: IRenderMimeRegistry | null;
    /** The selected cells of the active notebook as context; null without any. */
    selectedCells: () => string | null;
    /** Inserts a new cell from an answer below the active cell; false without a notebook. */
    insertCell: (text: string) => boolean;
  }

  export function View(props: IOptions): JSX.Element {
    const trans = useTranslator();
    const { model } = props;
    const [draft, setDraft] = React.useState('');
    const [withCells, setWithCells] = React.useState(false);
    const [notice, setNotice] = React.useState<string | null>(null);
    const send = (): void => {
      if (draft.trim() === '' || model.streaming) {
        return;
      }
      const context = withCells ? props.selectedCells() : null;
      setDraft('');
      setNotice(null);
      void model.send(draft, context);
    };
    const error = model.error ?? model.unavailable ?? notice;
    return (
      <div className="jp-hpc-ChatPanel-body">
        <Conversations model={model} />
        <Messages
          entries={model.messages}
          rendermime={props.rendermime}
          onInsert={text => {
            setNotice(
              props.insertCell(text)
                ? null
                : trans.__('Open a notebook to insert the answer into.')
            );
          }}
        />
        {error !== null && (
          <div className="hpcb-ChatPanel-error" role="alert">
            <Alert message={error} />
          </div>
        )}
        <div className="jp-hpc-ChatPanel-compose">
          <textarea
            className="jp-mod-styled jp-hpc-ChatPanel-input hpcb-ChatPanel-input"
            aria-label={trans.__('Message to the assistant')}
            placeholder={trans.__(
              'Ask the assistant (Enter sends, Shift+Enter: new line)'
            )}
            rows={3}
            value={draft}
            onChange={e => setDraft(e.target.value)}
            onKeyDown={e => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                send();
              }
            }}
          />
          <div className="jp-hpc-ChatPanel-actions">
            <label className="jp-hpc-ChatPanel-check">
              <input
                type="checkbox"
                className="hpcb-ChatPanel-context"
                checked={withCells}
                onChange={e => setWithCells(e.target.checked)}
              />
              {trans.__('Include selected cells')}
            </label>
            {model.streaming ? (
              <Button
                small
                className="jp-hpc-ChatPanel-stop"
                onClick={() => model.stop()}
              >
                {trans.__('Stop')}
              </Button>
            ) : (
              <Button
                small
                className="hpcb-ChatPanel-send"
                disabled={draft.trim() === ''}
                onClick={send}
              >
                {trans.__('Send')}
              </Button>
            )}
          </div>
        </div>
      </div>
    );
  }

  /** The conversation picker with New and Delete. */
  function Conversations(props: { model: ChatModel }): JSX.Element {
    const trans = useTranslator();
    const { model } = props;
    const current = model.currentId;
    return (
      <div className="jp-hpc-ChatPanel-conversations">
        <select
          className="jp-mod-styled"
          aria-label={trans.__('Conversation')}
          value={current ?? ''}
          onChange={e => {
            const id = e.target.value;
            if (id === '') {
              model.startNew();
            } else {
              void model.open(id);
            }
          }}
        >
          <option value="">{trans.__('New conversation')}</option>
          {model.conversations.map(c => (
            <option key={c.id} value={c.id}>
              {c.title}
            </option>
          ))}
        </select>
        <IconButton
          label={trans.__('New conversation')}
          icon={addIcon}
          onClick={() => model.startNew()}
        />
        {current !== null && (
          <IconButton
            label={trans.__('Delete this conversation')}
            icon={deleteIcon}
            onClick={() => void model.remove(current)}
          />
        )}
      </div>
    );
  }

  function Messages(props: {
    entries: readonly IChatEntry[];
    rendermime: IRenderMimeRegistry | null;
    onInsert: (text: string) => void;
  }): JSX.Element {
    const trans = useTranslator();
    const end = React.useRef<HTMLDivElement>(null);
    const last = props.entries[props.entries.length - 1];
    React.useEffect(() => {
      end.current?.scrollIntoView?.({ block: 'end' });
    }, [props.entries.length, last?.content]);
    return (
      <div className="jp-hpc-ChatPanel-messages" aria-live="polite">
        {props.entries.length === 0 && (
          <p className="jp-hpc-ChatPanel-empty">
            {trans.__(
              'Ask about your code; tick “Include selected cells” to send them along.'
            )}
          </p>
        )}
        {props.entries.map((entry, index) => (
          <div
            key={index}
            className={`jp-hpc-ChatMessage hpcb-ChatMessage jp-mod-${entry.role}`}
            data-role={entry.role}
          >
            {entry.role === 'assistant' &&
            !entry.streaming &&
            props.rendermime ? (
              <Markdown text={entry.content} rendermime={props.rendermime} />
            ) : (
              <div className="jp-hpc-ChatMessage-text">
                {entry.content || (entry.streaming ? '…' : '')}
              </div>
            )}
            {entry.context !== null && (
              <details className="jp-hpc-ChatMessage-context">
                <summary>{trans.__('Sent with it')}</summary>
                <pre>{entry.context}</pre>
              </details>
            )}
            {entry.role === 'assistant' && !entry.streaming && (
              <Button
                small
                minimal
                className="hpcb-ChatMessage-insert"
                onClick={() => props.onInsert(entry.content)}
              >
                {trans.__('Insert into a new cell')}
              </Button>
            )}
          </div>
        ))}
        <div ref={end} />
      </div>
    );
  }

  /** An answer rendered by the lab's markdown renderer (sanitized: untrusted). */
  function Markdown(props: {
    text: string;
    rendermime: IRenderMimeRegistry;
  }): JSX.Element {
    const host = React.useRef<HTMLDivElement>(null);
    React.useEffect(() => {
      const renderer = props.rendermime.createRenderer('text/markdown');
      const node = host.current;
      node?.appendChild(renderer.node);
      void renderer
        .renderModel(
          new MimeModel({
            data: { 'text/markdown': props.text },
            trusted: false
          })
        )
        .catch(() => undefined);
      return () => {
        renderer.node.remove();
        renderer.dispose();
      };
    }, [props.text, props.rendermime]);
    return <div className="jp-hpc-ChatMessage-markdown" ref={host} />;
  }
}
