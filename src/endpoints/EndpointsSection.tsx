import type { TranslationBundle } from '@jupyterlab/translation';
import {
  addIcon,
  Button,
  caretDownIcon,
  caretRightIcon,
  closeIcon,
  ReactWidget,
  UseSignal
} from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import React from 'react';
import type { Endpoints } from './api';
import { Placement } from './placement';
import { EndpointsModel } from './EndpointsModel';
import { Alert } from '../ui/Alert';
import { ClusterSection } from '../cluster/ClusterSection';
import { EndpointsDialogs } from './EndpointsDialogs';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { IconButton } from '../ui/IconButton';
import { TranslatorContext, useTranslator } from '../ui/translator';

/**
 * The **Endpoints** section: the user's model-serving endpoints with their
 * state; expanded, one shows its replicas, gateway URL, actions, a "Try it"
 * chat box, snippets, keys and metrics.
 */
export function EndpointsSection(props: EndpointsSection.IProps): JSX.Element {
  const trans = useTranslator();
  const { model, actions } = props;
  return (
    <section
      className="jp-hpc-Section jp-hpc-Endpoints"
      aria-label={trans.__('Endpoints')}
    >
      <div className="jp-hpc-Endpoints-header">
        <h3 className="jp-hpc-Section-title">{trans.__('Endpoints')}</h3>
        <Button
          small
          minimal
          aria-label={trans.__('Create an endpoint')}
          title={trans.__('Serve a model of the catalog behind one stable URL')}
          onClick={actions.onCreate}
        >
          <addIcon.react tag="span" className="jp-hpc-Endpoint-icon" />
          {trans.__('New endpoint…')}
        </Button>
      </div>
      {model.error && (
        <Alert message={model.error.message} onRetry={actions.onRetry} />
      )}
      {model.loading && !model.error ? (
        <ClusterSection.Loading />
      ) : (
        <>
          {!model.error && model.endpoints.length === 0 && (
            <p className="jp-hpc-Section-empty">
              {trans.__(
                'No endpoints yet. Create one to serve a model behind an OpenAI-compatible URL.'
              )}
            </p>
          )}
          <ul
            className="jp-hpc-EndpointList"
            aria-label={trans.__('Endpoint list')}
          >
            {model.endpoints.map(endpoint => (
              <EndpointsSection.EndpointItem
                key={endpoint.id}
                endpoint={endpoint}
                model={model}
                actions={actions}
              />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

export namespace EndpointsSection {
  export interface IActions {
    onCreate: () => void;
    onRetry: () => Promise<void>;
    onToggle: (endpoint: Endpoints.Endpoint) => void;
    onStart: (endpoint: Endpoints.Endpoint) => void;
    onStop: (endpoint: Endpoints.Endpoint) => void;
    onDelete: (endpoint: Endpoints.Endpoint) => void;
    onCreateKey: (endpoint: Endpoints.Endpoint) => void;
    onRevokeKey: (endpoint: Endpoints.Endpoint, key: Endpoints.Key) => void;
    onSend: (endpoint: Endpoints.Endpoint, prompt: string) => void;
  }

  export interface IProps {
    /** Read only: the section renders what the model holds. */
    model: EndpointsModel;
    actions: IActions;
  }

  /** The state as a coloured badge, like the Jobs section's. */
  export function StateBadge(props: {
    state: Endpoints.State;
    reason?: string | null;
  }): JSX.Element {
    return (
      <span
        className={`jp-hpc-JobState jp-hpc-EndpointState jp-mod-${props.state}`}
        title={props.reason ?? undefined}
      >
        {props.state}
      </span>
    );
  }

  export function EndpointItem(props: {
    endpoint: Endpoints.Endpoint;
    model: EndpointsModel;
    actions: IActions;
  }): JSX.Element {
    const trans = useTranslator();
    const { endpoint, model, actions } = props;
    const expanded = model.expanded.has(endpoint.id);
    const Caret = expanded ? caretDownIcon : caretRightIcon;
    const fallback = Placement.fallbackNote(model.catalog, endpoint);
    return (
      <li
        className={`jp-hpc-Endpoint jp-mod-${endpoint.state}`}
        aria-label={trans.__('Endpoint %1', endpoint.name)}
      >
        <div className="jp-hpc-Endpoint-header">
          <button
            className="jp-hpc-Endpoint-toggle"
            aria-expanded={expanded}
            aria-label={trans.__('Details of %1', endpoint.name)}
            onClick={() => actions.onToggle(endpoint)}
          >
            <Caret.react tag="span" className="jp-hpc-Endpoint-caret" />
            <span className="jp-hpc-Endpoint-name">{endpoint.name}</span>
          </button>
          <code className="jp-hpc-Endpoint-model">{endpoint.model}</code>
          <StateBadge state={endpoint.state} reason={endpoint.reason} />
        </div>
        <div className="jp-hpc-Endpoint-summary">
          {EndpointsModel.providerTitle(model.catalog, endpoint.provider)}
          {' · '}
          {endpoint.visibility === 'private'
            ? trans.__('private')
            : `${endpoint.visibility} ${endpoint.group ?? ''}`}
          {!model.isOwner(endpoint) &&
            ` · ${trans.__('by %1', endpoint.owner)}`}
        </div>
        {fallback && (
          <p
            className="jp-hpc-Endpoint-fallback"
            role="note"
            aria-label={trans.__('Fallback of %1', endpoint.name)}
          >
            {trans.__(
              'Running on %1 because %2',
              fallback.provider,
              EndpointItem.clause(fallback.reason)
            )}
          </p>
        )}
        {endpoint.reason && (
          <p className="jp-hpc-Endpoint-reason">{endpoint.reason}</p>
        )}
        {expanded && (
          <Details endpoint={endpoint} model={model} actions={actions} />
        )}
      </li>
    );
  }

  export namespace EndpointItem {
    /** A sentence of the bridge as a clause after "because": no capital, no stop. */
    export function clause(sentence: string): string {
      const text = sentence.trim().replace(/\.$/, '');
      return /^[A-Z][a-z]/.test(text)
        ? text.charAt(0).toLowerCase() + text.slice(1)
        : text;
    }
  }

  function Details(props: {
    endpoint: Endpoints.Endpoint;
    model: EndpointsModel;
    actions: IActions;
  }): JSX.Element {
    const trans = useTranslator();
    const { endpoint, model, actions } = props;
    const owner = model.isOwner(endpoint);
    const allowed = EndpointsModel.actions(endpoint.state);
    const busy = model.busy(endpoint.id);
    const snippets = model.snippets(endpoint);
    const metrics = model.metrics(endpoint.id);
    const detailError = model.detailError(endpoint.id);
    const { resources } = endpoint;
    return (
      <div className="jp-hpc-Endpoint-details">
        <dl className="jp-hpc-Endpoint-facts">
          <dt>{trans.__('Resources')}</dt>
          <dd>
            {trans.__(
              '%1 CPU · %2 MB · %3 GPU · %4 min per replica',
              resources.cpus,
              resources.memoryMB,
              resources.gpus,
              resources.timeMinutes
            )}
          </dd>
          <dt>{trans.__('Idle timeout')}</dt>
          <dd>
            {trans.__('%1 min, then scale to zero', endpoint.idleMinutes)}
          </dd>
          <dt>{trans.__('Restarts')}</dt>
          <dd>{endpoint.restarts}</dd>
          {endpoint.fallback && (
            <>
              <dt>{trans.__('Fallback')}</dt>
              <dd>
                {trans.__(
                  '%1, when %2 cannot place a replica',
                  Placement.title(model.catalog, endpoint.fallback),
                  Placement.title(model.catalog, endpoint.provider)
                )}
              </dd>
            </>
          )}
        </dl>
        {endpoint.replicas.length > 0 && (
          <Replicas catalog={model.catalog} replicas={endpoint.replicas} />
        )}
        <EndpointsDialogs.CopyField
          label={trans.__('Gateway URL')}
          value={endpoint.url}
        />
        {owner && (
          <div className="jp-hpc-Endpoint-actions">
            <Button
              small
              disabled={busy || !allowed.start}
              aria-label={trans.__('Start %1', endpoint.name)}
              onClick={() => actions.onStart(endpoint)}
            >
              {trans.__('Start')}
            </Button>
            <Button
              small
              disabled={busy || !allowed.stop}
              aria-label={trans.__('Stop %1', endpoint.name)}
              onClick={() => actions.onStop(endpoint)}
            >
              {trans.__('Stop')}
            </Button>
            <Button
              small
              minimal
              disabled={busy}
              aria-label={trans.__('Delete %1', endpoint.name)}
              onClick={() => actions.onDelete(endpoint)}
            >
              {trans.__('Delete')}
            </Button>
          </div>
        )}
        {owner && (
          <TryIt
            endpoint={endpoint}
            chat={model.chat(endpoint.id)}
            onSend={prompt => actions.onSend(endpoint, prompt)}
          />
        )}
        <details className="jp-hpc-Endpoint-snippets" open>
          <summary>{trans.__('Use it from code')}</summary>
          <p className="jp-hpc-Form-note">
            {trans.__(
              'Put a key of this endpoint into the environment variable HPCB_API_KEY.'
            )}
          </p>
          <EndpointsDialogs.CopyField
            label={trans.__('Python')}
            value={snippets.python}
            code
          />
          <EndpointsDialogs.CopyField
            label={trans.__('curl')}
            value={snippets.curl}
            code
          />
        </details>
        {detailError && <Alert message={detailError} />}
        {owner && (
          <Keys
            endpoint={endpoint}
            keys={model.keys(endpoint.id)}
            onCreate={() => actions.onCreateKey(endpoint)}
            onRevoke={key => actions.onRevokeKey(endpoint, key)}
          />
        )}
        {owner && metrics && <Metrics name={endpoint.name} metrics={metrics} />}
      </div>
    );
  }

  function Replicas(props: {
    catalog: Endpoints.Catalog | null;
    replicas: readonly Endpoints.Replica[];
  }): JSX.Element {
    const trans = useTranslator();
    return (
      <table className="jp-hpc-EndpointTable" aria-label={trans.__('Replicas')}>
        <thead>
          <tr>
            <th>{trans.__('Replica')}</th>
            <th>{trans.__('Runs on')}</th>
            <th>{trans.__('Address')}</th>
            <th>{trans.__('Ends')}</th>
          </tr>
        </thead>
        <tbody>
          {props.replicas.map(replica => (
            <tr
              key={replica.id}
              title={replica.reason ?? undefined}
              aria-label={trans.__('Replica %1', replica.id)}
            >
              <td>
                <span
                  className={`jp-hpc-JobState jp-hpc-EndpointState jp-mod-${replica.state}`}
                >
                  {replica.state}
                </span>
              </td>
              <td className="jp-hpc-Endpoint-where">
                {Placement.replicaPlace(props.catalog, replica)}
              </td>
              <td>
                <code>{replica.address ?? '—'}</code>
              </td>
              <td>{time(replica.endsAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }

  export function TryIt(props: {
    endpoint: Endpoints.Endpoint;
    chat: EndpointsModel.IChat;
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
          <Button
            small
            disabled={chat.busy || !prompt.trim()}
            aria-label={trans.__('Send to %1', endpoint.name)}
            onClick={send}
          >
            {chat.busy ? trans.__('Answering…') : trans.__('Send')}
          </Button>
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

  export function Keys(props: {
    endpoint: Endpoints.Endpoint;
    keys: readonly Endpoints.Key[];
    onCreate: () => void;
    onRevoke: (key: Endpoints.Key) => void;
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
                        ? time(key.lastUsedAt)
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

  export function Metrics(props: {
    name: string;
    metrics: Endpoints.Metrics;
  }): JSX.Element {
    const trans = useTranslator();
    const summary = EndpointsModel.summary(props.metrics);
    const ms = (value: number | null) =>
      value === null ? '—' : trans.__('%1 ms', Math.round(value));
    return (
      <div className="jp-hpc-EndpointMetrics">
        <div className="jp-hpc-Endpoint-subtitle">
          <span>{trans.__('Traffic (last 15 minutes)')}</span>
        </div>
        <table
          className="jp-hpc-EndpointTable"
          aria-label={trans.__('Metrics of %1', props.name)}
        >
          <tbody>
            <tr>
              <th>{trans.__('Requests/min')}</th>
              <td>
                {summary.requestsPerMinute}{' '}
                <Sparkline
                  values={summary.series}
                  label={trans.__('Requests per minute, last 15 minutes')}
                />
              </td>
            </tr>
            <tr>
              <th>{trans.__('Latency p50 / p95')}</th>
              <td>
                {ms(summary.p50Ms)} / {ms(summary.p95Ms)}
              </td>
            </tr>
            <tr>
              <th>{trans.__('Requests / errors')}</th>
              <td>
                {summary.requests} / {summary.errors}
              </td>
            </tr>
            <tr>
              <th>{trans.__('Tokens')}</th>
              <td>{summary.tokens}</td>
            </tr>
          </tbody>
        </table>
      </div>
    );
  }

  /** A tiny bar chart of `values` (inline SVG). */
  export function Sparkline(props: {
    values: readonly number[];
    label: string;
  }): JSX.Element {
    const width = 90;
    const height = 16;
    const max = Math.max(1, ...props.values);
    const step = props.values.length > 0 ? width / props.values.length : width;
    return (
      <svg
        className="jp-hpc-Sparkline"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={props.label}
      >
        {props.values.map((value, i) => {
          const h = value === 0 ? 1 : Math.max(2, (value / max) * height);
          return (
            <rect
              key={i}
              x={i * step + 0.5}
              y={height - h}
              width={Math.max(1, step - 1)}
              height={h}
              className={value === 0 ? 'jp-mod-zero' : undefined}
            />
          );
        })}
      </svg>
    );
  }

  function time(iso: string | null): string {
    return iso ? new Date(iso).toLocaleTimeString() : '—';
  }
}

/** The Endpoints section as a widget of the HPC Bridge panel. */
export class EndpointsSectionWidget extends ReactWidget {
  constructor(options: EndpointsSectionWidget.IOptions) {
    super();
    this._options = options;
    this.addClass('jp-hpc-EndpointsSectionWidget');
    this.title.label = options.trans.__('Endpoints');
  }

  render(): JSX.Element {
    const { model, trans, actions } = this._options;
    return (
      <TranslatorContext.Provider value={trans}>
        <ErrorBoundary>
          <UseSignal signal={model.changed}>
            {() => <EndpointsSection model={model} actions={actions} />}
          </UseSignal>
        </ErrorBoundary>
      </TranslatorContext.Provider>
    );
  }

  // The model polls only while the section is on screen.
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._options.model.visible = true;
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._options.model.visible = this.isVisible;
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._options.model.visible = false;
  }

  protected onBeforeDetach(msg: Message): void {
    this._options.model.visible = false;
    super.onBeforeDetach(msg);
  }

  private readonly _options: EndpointsSectionWidget.IOptions;
}

export namespace EndpointsSectionWidget {
  export interface IOptions {
    model: EndpointsModel;
    trans: TranslationBundle;
    actions: EndpointsSection.IActions;
  }
}
