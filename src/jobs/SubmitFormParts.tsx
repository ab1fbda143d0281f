import React from 'react';
import type { Cluster, JobDataEstimate } from '@hpc-bridge/server/contract';
import type { PartitionCompliance } from './compliance';
import type { SubmitModel } from './SubmitModel';
import { useTranslator } from '../ui/translator';

/*
 * The submit form's small parts: a labelled field, the refusal of a choice, the data
 * checks, the chosen profile's cluster when it is down.
 */

/** A labelled input with its error below. */
export function Field(props: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children: React.ReactElement;
}): JSX.Element {
  const errorId = `${props.id}-error`;
  const hintId = `${props.id}-hint`;
  const described =
    [props.error ? errorId : '', props.hint ? hintId : '']
      .filter(Boolean)
      .join(' ') || undefined;
  return (
    <div
      className={`jp-hpc-SubmitForm-field${props.error ? ' jp-mod-invalid' : ''}`}
    >
      <label htmlFor={props.id}>{props.label}</label>
      {React.cloneElement(props.children, {
        id: props.id,
        'aria-invalid': props.error ? true : undefined,
        'aria-describedby': described
      })}
      {props.hint && (
        <span id={hintId} className="jp-hpc-SubmitForm-hint">
          {props.hint}
        </span>
      )}
      {props.error && (
        <span id={errorId} className="jp-hpc-SubmitForm-error">
          {props.error}
        </span>
      )}
    </div>
  );
}

/** The rule a choice breaks, with a button per profile that follows it. */
export function Refusal(props: {
  model: SubmitModel;
  refusal: PartitionCompliance.IRefusal;
}): JSX.Element {
  const trans = useTranslator();
  const { model, refusal } = props;
  return (
    <div
      className="jp-hpc-Alert jp-mod-warning jp-hpc-SubmitForm-refusal"
      role="alert"
    >
      <p className="jp-hpc-Alert-message">{refusal.message}</p>
      {refusal.compliantProfiles.length === 0 ? (
        <p className="jp-hpc-SubmitForm-hint">
          {trans.__(
            'No profile of this cluster may use sensitive data: leave the sensitive tier out.'
          )}
        </p>
      ) : (
        refusal.compliantProfiles.map(profile => (
          <button
            key={profile.name}
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept"
            onClick={() => model.setProfile(profile.name)}
          >
            {trans.__('Use %1', profile.title)}
          </button>
        ))
      )}
    </div>
  );
}

/**
 * What the estimate found about the declared inputs and outputs: what a submit would
 * refuse (errors) and what the user should know (warnings); nothing when all is well.
 */
export function DataChecks(props: {
  data: JobDataEstimate | undefined;
}): JSX.Element | null {
  const trans = useTranslator();
  const { data } = props;
  if (!data || (data.errors.length === 0 && data.warnings.length === 0)) {
    return null;
  }
  return (
    <div className="jp-hpc-SubmitForm-dataChecks">
      {data.errors.length > 0 && (
        <div className="jp-hpc-Alert jp-mod-error" role="alert">
          <p className="jp-hpc-Alert-message">
            {trans.__('The bridge would refuse this data:')}
          </p>
          <ul>
            {data.errors.map((e, i) => (
              <li key={i}>{e.message}</li>
            ))}
          </ul>
        </div>
      )}
      {data.warnings.length > 0 && (
        <div className="jp-hpc-Alert jp-mod-warning" role="status">
          <ul>
            {data.warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/** The chosen profile's cluster is down: which, and why (the bridge's words). */
export function ClusterDown(props: {
  cluster: Cluster | null;
}): JSX.Element | null {
  const trans = useTranslator();
  const { cluster } = props;
  if (cluster === null) {
    return null;
  }
  return (
    <div
      className="jp-hpc-Alert jp-mod-warning jp-hpc-SubmitForm-clusterDown"
      role="alert"
    >
      <p className="jp-hpc-Alert-message">
        {trans.__(
          'Cluster %1 is down (%2). Jobs for it are refused until it is back; the profiles of other clusters work.',
          cluster.title,
          cluster.error ?? trans.__('no reason given')
        )}
      </p>
    </div>
  );
}
