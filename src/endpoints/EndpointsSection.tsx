import type {
  Endpoint,
  EndpointKey,
  EndpointState,
  ModelCatalog,
  Replica,
  UserModel
} from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  addIcon,
  Button,
  caretDownIcon,
  caretRightIcon,
  UseSignal
} from '@jupyterlab/ui-components';
import React from 'react';
import { Placement } from './placement';
import { EndpointsModel } from './EndpointsModel';
import { Alert } from '../ui/Alert';
import { ActionButton } from '../ui/ActionButton';
import { CopyField } from '../ui/CopyField';
import { SnippetFields } from './SnippetFields';
import { IconButton } from '../ui/IconButton';
import { PolledList } from '../ui/PolledList';
import { Section } from '../ui/Section';
import { VisibleSectionWidget } from '../ui/SectionWidget';
import { shortTime } from '../ui/format';
import { EndpointKeys, EndpointTryIt } from './EndpointKeys';
import { EndpointMetrics } from './EndpointMetrics';
import { useTranslator } from '../ui/translator';
import { EndpointForm } from './createForm';
import { UserModelsList } from './UserModelsList';
import type { UserModelsModel } from './UserModelsModel';
import { DataTable } from '../ui/DataTable';

/**
 * The **Endpoints** section: the user's model-serving endpoints with their
 * state; expanded, one shows its replicas, gateway URL, actions, a "Try it"
 * chat box, snippets, keys and metrics.
 */
export function EndpointsSection(props: EndpointsSection.IProps): JSX.Element {
  const trans = useTranslator();
  const { model, actions } = props;
  return (
    <Section
      id="endpoints"
      title={trans.__('Endpoints')}
      className="jp-hpc-Endpoints"
      toolbar={
        <>
          <IconButton
            label={trans.__('Create an endpoint')}
            title={trans.__(
              'New endpoint…: serve a model of the catalog behind one stable URL'
            )}
            icon={addIcon}
            onClick={actions.onCreate}
          />
        </>
      }
      refreshLabel={trans.__('Refresh the endpoints')}
      onRefresh={() => void actions.onRetry()}
    >
      <PolledList
        model={model}
        onRetry={actions.onRetry}
        count={model.endpoints.length}
        empty={trans.__(
          'No endpoints yet. Create one to serve a model behind an OpenAI-compatible URL.'
        )}
        className="jp-hpc-EndpointList"
        label={trans.__('Endpoint list')}
      >
        {model.endpoints.map(endpoint => (
          <EndpointsSection.EndpointItem
            key={endpoint.id}
            endpoint={endpoint}
            model={model}
            actions={actions}
          />
        ))}
      </PolledList>
      {props.userModels && (
        <UseSignal signal={props.userModels.model.changed}>
          {() =>
            props.userModels && (
              <UserModelsList
                model={props.userModels.model}
                servedBy={name =>
                  model.endpoints
                    .filter(ep => ep.model === name && model.isOwner(ep))
                    .map(ep => ep.name)
                }
                onDelete={props.userModels.onDelete}
              />
            )
          }
        </UseSignal>
      )}
    </Section>
  );
}

export namespace EndpointsSection {
  export interface IActions {
    onCreate: () => void;
    onRetry: () => Promise<void>;
    onToggle: (endpoint: Endpoint) => void;
    onStart: (endpoint: Endpoint) => void;
    onStop: (endpoint: Endpoint) => void;
    onDelete: (endpoint: Endpoint) => void;
    onCreateKey: (endpoint: Endpoint) => void;
    onRevokeKey: (endpoint: Endpoint, key: EndpointKey) => void;
    onSend: (endpoint: Endpoint, prompt: string) => void;
  }

  export interface IProps {
    /** Read only: the section renders what the model holds. */
    model: EndpointsModel;
    actions: IActions;
    /** The user's registered models, listed under the endpoints. */
    userModels?: IUserModels;
  }

  export interface IUserModels {
    model: UserModelsModel;
    onDelete: (model: UserModel) => void;
  }

  /** The state as a coloured badge, like the Jobs section's. */
  export function StateBadge(props: {
    state: EndpointState;
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
    endpoint: Endpoint;
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
          {EndpointForm.providerTitle(model.catalog, endpoint.provider)}
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
        {!endpoint.reason && EndpointItem.waiting(endpoint) && (
          <p className="jp-hpc-Endpoint-reason" role="status">
            {EndpointItem.waiting(endpoint)}
          </p>
        )}
        {expanded && (
          <Details endpoint={endpoint} model={model} actions={actions} />
        )}
      </li>
    );
  }

  export namespace EndpointItem {
    /** Why a replica asked for has not started yet (e.g. the model server is still being built). */
    export function waiting(endpoint: Endpoint): string | null {
      return (
        endpoint.replicas.find(r => r.state === 'pending' && r.reason)
          ?.reason ?? null
      );
    }

    /** A sentence of the bridge as a clause after "because": no capital, no stop. */
    export function clause(sentence: string): string {
      const text = sentence.trim().replace(/\.$/, '');
      return /^[A-Z][a-z]/.test(text)
        ? text.charAt(0).toLowerCase() + text.slice(1)
        : text;
    }
  }

  function Details(props: {
    endpoint: Endpoint;
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
        <CopyField label={trans.__('Gateway URL')} value={endpoint.url} />
        {owner && (
          <div className="jp-hpc-Endpoint-actions">
            <ActionButton
              kind="accept"
              disabled={busy || !allowed.start}
              aria-label={trans.__('Start %1', endpoint.name)}
              onClick={() => actions.onStart(endpoint)}
            >
              {trans.__('Start')}
            </ActionButton>
            <Button
              small
              disabled={busy || !allowed.stop}
              aria-label={trans.__('Stop %1', endpoint.name)}
              onClick={() => actions.onStop(endpoint)}
            >
              {trans.__('Stop')}
            </Button>
            <ActionButton
              kind="warn"
              disabled={busy}
              aria-label={trans.__('Delete %1', endpoint.name)}
              onClick={() => actions.onDelete(endpoint)}
            >
              {trans.__('Delete')}
            </ActionButton>
          </div>
        )}
        {owner && (
          <EndpointTryIt
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
          <SnippetFields snippets={snippets} />
        </details>
        {detailError && <Alert message={detailError} />}
        {owner && (
          <EndpointKeys
            endpoint={endpoint}
            keys={model.keys(endpoint.id)}
            onCreate={() => actions.onCreateKey(endpoint)}
            onRevoke={key => actions.onRevokeKey(endpoint, key)}
          />
        )}
        {owner && metrics && (
          <EndpointMetrics name={endpoint.name} metrics={metrics} />
        )}
      </div>
    );
  }

  function Replicas(props: {
    catalog: ModelCatalog | null;
    replicas: readonly Replica[];
  }): JSX.Element {
    const trans = useTranslator();
    return (
      <DataTable
        className="jp-hpc-EndpointTable"
        label={trans.__('Replicas')}
        columns={[
          {
            label: trans.__('Replica'),
            value: replica => (
              <span
                className={`jp-hpc-JobState jp-hpc-EndpointState jp-mod-${replica.state}`}
              >
                {replica.state}
              </span>
            )
          },
          {
            label: trans.__('Runs on'),
            value: replica => Placement.replicaPlace(props.catalog, replica),
            className: () => 'jp-hpc-Endpoint-where'
          },
          {
            label: trans.__('Address'),
            value: replica => <code>{replica.address ?? '—'}</code>
          },
          {
            label: trans.__('Ends'),
            value: replica => shortTime(replica.endsAt)
          }
        ]}
        items={props.replicas}
        rowKey={replica => replica.id}
        rowTitle={replica => replica.reason ?? undefined}
        rowLabel={replica => trans.__('Replica %1', replica.id)}
      />
    );
  }
}

/** The Endpoints section as a widget of the HPC Bridge panel. */
export class EndpointsSectionWidget extends VisibleSectionWidget<EndpointsModel> {
  constructor(options: EndpointsSectionWidget.IOptions) {
    super({
      ...options,
      className: 'jp-hpc-EndpointsSectionWidget',
      label: options.trans.__('Endpoints'),
      render: model => (
        <EndpointsSection
          model={model}
          actions={options.actions}
          {...(options.userModels ? { userModels: options.userModels } : {})}
        />
      )
    });
  }
}

export namespace EndpointsSectionWidget {
  export interface IOptions {
    model: EndpointsModel;
    trans: TranslationBundle;
    actions: EndpointsSection.IActions;
    userModels?: EndpointsSection.IUserModels;
  }
}
