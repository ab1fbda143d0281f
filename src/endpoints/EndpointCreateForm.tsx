import type {
  CatalogModel,
  EndpointVisibility,
  ModelCatalog,
  ServingProviderInfo,
  ServingProviderName
} from '@hpc-bridge/server/contract';
import React from 'react';
import { TiersField } from '../storage/TiersField';
import { FormError, SelectField } from '../ui/FormDialog';
import { NumberField, TextField } from '../ui/FormFields';
import { useTranslator } from '../ui/translator';
import type { EndpointsDialogs } from './EndpointsDialogs';
import { Placement } from './placement';
import { EndpointForm } from './createForm';

/** The create dialog's fields. */
export function EndpointCreateForm(props: {
  context: EndpointsDialogs.ICreateContext;
  value: EndpointForm.ICreateForm;
  error: string | null;
  onChange: (value: EndpointForm.ICreateForm) => void;
}): JSX.Element {
  const trans = useTranslator();
  const { catalog, groups, courses } = props.context;
  const { value, onChange } = props;
  const model =
    catalog.models.find(m => m.name === value.model) ?? catalog.models[0];
  const range = (
    key: keyof CatalogModel['resources']
  ): { min: number; max: number } => model.resources[key];
  const choices = value.visibility === 'course' ? courses : groups;
  const providerInfo = Placement.provider(catalog, value.provider);
  const providerNote = providerInfo?.description;
  const fallbacks = Placement.fallbackChoices(catalog, model, value.provider);
  return (
    <>
      <FormError message={props.error} />
      <TextField
        label={trans.__('Name')}
        value={value.name}
        placeholder={trans.__('e.g. course-assistant')}
        onChange={name => onChange({ ...value, name })}
      />
      <SelectField
        label={trans.__('Model')}
        value={model.name}
        options={catalog.models.map(m => ({
          value: m.name,
          label: m.own
            ? trans.__('%1 (your model, %2)', m.title, m.uri ?? '')
            : m.title
        }))}
        onChange={name => {
          const chosen = catalog.models.find(m => m.name === name);
          if (chosen) {
            onChange({
              ...EndpointForm.defaults(catalog, chosen),
              name: value.name,
              idleMinutes: value.idleMinutes,
              visibility: value.visibility,
              group: value.group,
              tiers: value.tiers
            });
          }
        }}
      />
      {model.description && (
        <p className="jp-hpc-Form-note">{model.description}</p>
      )}
      <SelectField
        label={trans.__('Provider')}
        value={value.provider}
        options={model.providers.map(name => ({
          value: name,
          label: EndpointForm.providerTitle(catalog, name)
        }))}
        onChange={provider =>
          onChange(
            EndpointForm.withProvider(
              value,
              provider as ServingProviderName,
              model
            )
          )
        }
      />
      {providerNote && <p className="jp-hpc-Form-note">{providerNote}</p>}
      <div className="jp-hpc-Form-row">
        <NumberField
          label={trans.__('CPUs')}
          value={value.cpus}
          {...range('cpus')}
          onChange={cpus => onChange({ ...value, cpus })}
        />
        <NumberField
          label={trans.__('Memory (MB)')}
          value={value.memoryMB}
          {...range('memoryMB')}
          onChange={memoryMB => onChange({ ...value, memoryMB })}
        />
        <NumberField
          label={trans.__('GPUs')}
          value={value.gpus}
          {...range('gpus')}
          onChange={gpus => onChange({ ...value, gpus })}
        />
      </div>
      {providerInfo && isCloud(providerInfo) && (
        <CloudFacts
          catalog={catalog}
          info={providerInfo}
          gpus={value.gpus}
          fallback={value.fallback}
        />
      )}
      {fallbacks.length > 0 && (
        <SelectField
          label={trans.__('If it cannot start there, use:')}
          value={value.fallback}
          options={[
            { value: '', label: trans.__('No fallback') },
            ...fallbacks.map(name => ({
              value: name,
              label: Placement.title(catalog, name)
            }))
          ]}
          onChange={fallback =>
            onChange({
              ...value,
              fallback: fallback as ServingProviderName | ''
            })
          }
        />
      )}
      <div className="jp-hpc-Form-row">
        <NumberField
          label={trans.__('Time limit per replica (minutes)')}
          value={value.timeMinutes}
          {...range('timeMinutes')}
          onChange={timeMinutes => onChange({ ...value, timeMinutes })}
        />
        <NumberField
          label={trans.__('Idle timeout (minutes)')}
          value={value.idleMinutes}
          min={catalog.idleMinutes.min}
          max={catalog.idleMinutes.max}
          onChange={idleMinutes => onChange({ ...value, idleMinutes })}
        />
      </div>
      <p className="jp-hpc-Form-note">
        {trans.__(
          'A replica is replaced before its time limit without dropping requests; after the idle timeout the endpoint scales to zero and wakes on the next request.'
        )}
      </p>
      <SelectField
        label={trans.__('Visibility')}
        value={value.visibility}
        options={[
          { value: 'private', label: trans.__('Private: only you') },
          { value: 'group', label: trans.__('Group: members of a group') },
          { value: 'course', label: trans.__('Course: a course you teach') }
        ]}
        onChange={visibility => {
          const next = visibility as EndpointVisibility;
          const list = next === 'course' ? courses : groups;
          onChange({
            ...value,
            visibility: next,
            group:
              next === 'private'
                ? ''
                : list.includes(value.group)
                  ? value.group
                  : (list[0] ?? '')
          });
        }}
      />
      {value.visibility !== 'private' &&
        (choices.length > 0 ? (
          <SelectField
            label={
              value.visibility === 'course'
                ? trans.__('Course')
                : trans.__('Group')
            }
            value={value.group}
            options={choices.map(group => ({ value: group, label: group }))}
            onChange={group => onChange({ ...value, group })}
          />
        ) : (
          <TextField
            label={
              value.visibility === 'course'
                ? trans.__('Course')
                : trans.__('Group')
            }
            value={value.group}
            onChange={group => onChange({ ...value, group })}
          />
        ))}
      <TiersField
        options={props.context.tiers}
        chosen={value.tiers}
        loading={false}
        error={props.context.tiersError}
        sensitiveHint={trans.__(
          'Sensitive data: only a provider approved for it may run the replicas (the fallback too; the bridge refuses others), and every use is recorded in the audit log.'
        )}
        onChange={tiers => onChange({ ...value, tiers })}
      />
    </>
  );
}

/** Whether the catalog tells flavors, quota or why it cannot (a cloud). */
function isCloud(info: ServingProviderInfo): boolean {
  return (
    info.flavors !== undefined ||
    info.quota !== undefined ||
    info.problem !== undefined
  );
}

/**
 * The cloud's side of the request: the GPU flavor the GPU count maps to and
 * the project's quota left, or why the cloud could not be asked.
 */
function CloudFacts(props: {
  catalog: ModelCatalog;
  info: ServingProviderInfo;
  gpus: number;
  fallback: ServingProviderName | '';
}): JSX.Element {
  const trans = useTranslator();
  const { info, gpus } = props;
  const match = Number.isNaN(gpus) ? null : Placement.flavorFor(info, gpus);
  const left = info.quota ? Placement.quotaLeft(info.quota) : null;
  const short =
    left && match && 'flavor' in match
      ? Placement.shortages(left, match.flavor)
      : [];
  const quotaText = (quota: Placement.IQuotaLeft, unit = ''): string =>
    quota.left === null
      ? trans.__('unlimited')
      : trans.__('%1 of %2%3', quota.left, quota.limit ?? '', unit);
  const quotaName = (what: Placement.IShortage['what']): string =>
    ({
      instances: trans.__('instances'),
      cores: trans.__('cores'),
      ramMB: trans.__('RAM (MB)'),
      gpus: trans.__('GPUs')
    })[what];
  return (
    <div
      className="jp-hpc-CloudFacts"
      role="group"
      aria-label={trans.__('Cloud flavor and quota')}
    >
      {info.problem && (
        <p className="jp-hpc-Form-warning">
          {trans.__('Flavors and quota are not known: %1', info.problem)}
        </p>
      )}
      <dl className="jp-hpc-CloudFacts-facts">
        {match && (
          <>
            <dt>{trans.__('GPU flavor')}</dt>
            <dd aria-label={trans.__('GPU flavor')}>
              {'flavor' in match ? (
                <>
                  <code>{match.flavor.name}</code>{' '}
                  {trans.__(
                    '(GPUs %1 · vCPUs %2 · RAM %3 MB)',
                    match.flavor.gpus,
                    match.flavor.vcpus,
                    match.flavor.ramMB
                  )}
                </>
              ) : (
                <span className="jp-hpc-Form-warning">
                  {trans.__(
                    'None for %1 GPUs; this cloud offers flavors for %2 GPUs',
                    gpus,
                    match.offered.join(', ') || '—'
                  )}
                </span>
              )}
            </dd>
          </>
        )}
        {left && (
          <>
            <dt>{trans.__('Quota left')}</dt>
            <dd aria-label={trans.__('Quota left')}>
              {[
                trans.__('instances %1', quotaText(left.instances)),
                trans.__('cores %1', quotaText(left.cores)),
                trans.__('RAM %1', quotaText(left.ramMB, ' MB')),
                ...(left.gpus
                  ? [trans.__('GPUs %1', quotaText(left.gpus))]
                  : [])
              ].join(' · ')}
            </dd>
          </>
        )}
      </dl>
      {short.length > 0 && (
        <p className="jp-hpc-Form-warning" role="status">
          {trans.__(
            'Not enough quota left for one more server: %1.',
            short
              .map(s =>
                trans.__(
                  '%1 (needs %2, %3 left)',
                  quotaName(s.what),
                  s.needed,
                  s.left
                )
              )
              .join(', ')
          )}{' '}
          {props.fallback
            ? trans.__(
                'A replica will start on %1 instead.',
                Placement.title(props.catalog, props.fallback)
              )
            : trans.__(
                'Choose a fallback below, or the endpoint waits in a quota state.'
              )}
        </p>
      )}
    </div>
  );
}
