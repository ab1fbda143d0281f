import type { Endpoint, EndpointKey } from '@hpc-bridge/server/contract';
import { addIcon, Button, closeIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { shortTime } from '../ui/format';
import { ActionButton } from '../ui/ActionButton';
import { IconButton } from '../ui/IconButton';
import { useTranslator } from '../ui/translator';
import type { TryItModel } from './TryItModel';

export function EndpointTryIt(props: {
  endpoint: Endpoint;
  chat: TryItModel.IChat;
  onSend: (prompt: string) => void;
}): JSX.Element {
  const trans = useTranslator();
  const [prompt, setPrompt] = React.useState('');
  const { chat, endpoint } = props;
  const send = () => {
    if (prompt.trim() && !chat.busy) {
      props.onSend(prompt);
    }
  };
  return (
    <div
      className="jp-hpc-TryIt"
      role="group"
      aria-label={trans.__('Try %1', endpoint.name)}
    >
      <div className="jp-hpc-TryIt-title">{trans.__('Try it')}</div>
      <textarea
        className="jp-mod-styled jp-hpc-TryIt-input"
        rows={2}
        value={prompt}
        placeholder={trans.__('Ask something… (Ctrl+Enter sends)')}
        aria-label={trans.__('Message to %1', endpoint.name)}
        onChange={event => setPrompt(event.currentTarget.value)}
        onKeyDown={event => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            send();
          }
        }}
      />
      <div className="jp-hpc-TryIt-bar">
        <ActionButton
          kind="accept"
          disabled={chat.busy || !prompt.trim()}
          aria-label={trans.__('Send to %1', endpoint.name)}
          onClick={send}
        >
          {chat.busy ? trans.__('Answering…') : trans.__('Send')}
        </ActionButton>
        <span className="jp-hpc-Form-note">
          {trans.__(
            'Uses a key named panel-try that this page makes for itself.'
          )}
        </span>
      </div>
      {(chat.answer || chat.busy) && (
        <div
          className="jp-hpc-TryIt-answer"
          role="log"
          aria-live="polite"
          aria-label={trans.__('Answer of %1', endpoint.name)}
        >
          {chat.answer}
        </div>
      )}
      {chat.error && (
        <p className="jp-hpc-TryIt-error" role="alert">
          {chat.error}
        </p>
      )}
    </div>
  );
}

export function EndpointKeys(props: {
  endpoint: Endpoint;
  keys: readonly EndpointKey[];
  onCreate: () => void;
  onRevoke: (key: EndpointKey) => void;
}): JSX.Element {
  const trans = useTranslator();
  const { endpoint } = props;
  return (
    <div className="jp-hpc-EndpointKeys">
      <div className="jp-hpc-Endpoint-subtitle">
        <span>{trans.__('API keys')}</span>
        <Button
          small
          minimal
          aria-label={trans.__('New key for %1', endpoint.name)}
          onClick={props.onCreate}
        >
          <addIcon.react tag="span" className="jp-hpc-Endpoint-icon" />
          {trans.__('New key…')}
        </Button>
      </div>
      {props.keys.length === 0 ? (
        <p className="jp-hpc-Section-empty">
          {trans.__('No keys yet: a client needs one to call the endpoint.')}
        </p>
      ) : (
        <table
          className="jp-hpc-EndpointTable"
          aria-label={trans.__('Keys of %1', endpoint.name)}
        >
          <thead>
            <tr>
              <th>{trans.__('Key')}</th>
              <th>{trans.__('Requests')}</th>
              <th>{trans.__('Tokens')}</th>
              <th>{trans.__('Last used')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.keys.map(key => (
              <tr
                key={key.id}
                className={key.revokedAt ? 'jp-mod-revoked' : undefined}
                aria-label={trans.__('Key %1', key.name)}
              >
                <td>
                  {key.name}{' '}
                  <code className="jp-hpc-Endpoint-muted">{key.prefix}…</code>
                  {key.jobId && (
                    <span
                      className="jp-hpc-Endpoint-muted"
                      title={trans.__(
                        'Made for job %1, which declared this endpoint; revoked when the job ends.',
                        key.jobId
                      )}
                    >
                      {' '}
                      {trans.__('(for job %1)', key.jobId)}
                    </span>
                  )}
                </td>
                <td>
                  {key.requests}
                  {key.requestsPerMinute !== null && (
                    <span className="jp-hpc-Endpoint-muted">
                      {' '}
                      {trans.__('(≤ %1/min)', key.requestsPerMinute)}
                    </span>
                  )}
                </td>
                <td>
                  {key.tokenBudget === null
                    ? key.tokensUsed
                    : trans.__('%1 / %2', key.tokensUsed, key.tokenBudget)}
                </td>
                <td>
                  {key.revokedAt
                    ? trans.__('revoked')
                    : key.lastUsedAt
                      ? shortTime(key.lastUsedAt)
                      : trans.__('never')}
                </td>
                <td>
                  {!key.revokedAt && (
                    <IconButton
                      label={trans.__('Revoke key %1', key.name)}
                      icon={closeIcon}
                      onClick={() => props.onRevoke(key)}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
