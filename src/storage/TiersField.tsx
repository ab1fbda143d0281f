import React from 'react';
import { TierChoice } from './TierChoice';
import { useTranslator } from '../ui/translator';

/**
 * The storage tiers a job or an endpoint uses: a checkbox per tier (or group
 * folder) the user can read, with its data class; `sensitiveHint` is shown
 * while a sensitive one is chosen.
 */
export function TiersField(props: {
  options: readonly TierChoice.IOption[];
  chosen: readonly string[];
  /** Still asking the bridge. */
  loading: boolean;
  /** Why the tiers could not be listed. */
  error: string | null;
  /** What choosing a sensitive tier brings (the data-class rule), in words. */
  sensitiveHint: string;
  onChange: (chosen: string[]) => void;
  /** Shown at the end, e.g. why the bridge will refuse the choice. */
  children?: React.ReactNode;
}): JSX.Element {
  const trans = useTranslator();
  const { options, chosen } = props;
  const classLabel: Record<TierChoice.TierClass, string> = {
    scratch: trans.__('scratch'),
    project: trans.__('project'),
    archive: trans.__('archive'),
    public: trans.__('public'),
    sensitive: trans.__('sensitive')
  };
  const sensitive = TierChoice.sensitive(options, chosen);
  return (
    <fieldset className="jp-hpc-SubmitForm-group jp-hpc-TiersField">
      <legend>{trans.__('Storage tiers (optional)')}</legend>
      {props.loading ? (
        <p className="jp-hpc-SubmitForm-hint">{trans.__('Loading tiers…')}</p>
      ) : props.error !== null ? (
        <p className="jp-hpc-Form-warning">
          {trans.__('The tiers are not available: %1', props.error)}
        </p>
      ) : options.length === 0 ? (
        <p className="jp-hpc-SubmitForm-hint">
          {trans.__('You can read no storage tier.')}
        </p>
      ) : (
        <>
          <p className="jp-hpc-SubmitForm-hint">
            {trans.__(
              'Each chosen tier is given as HPCB_TIER_<NAME> (its location) in the environment.'
            )}
          </p>
          <ul className="jp-hpc-TiersField-list">
            {options.map(option => (
              <li key={option.ref}>
                <label className="jp-hpc-TiersField-option">
                  <input
                    type="checkbox"
                    checked={chosen.includes(option.ref)}
                    onChange={event =>
                      props.onChange(
                        TierChoice.toggle(
                          options,
                          chosen,
                          option.ref,
                          event.currentTarget.checked
                        )
                      )
                    }
                  />
                  <span>
                    {option.group === null
                      ? option.title
                      : trans.__('%1 (%2)', option.title, option.group)}
                  </span>{' '}
                  <span
                    className={`jp-hpc-TiersField-class jp-mod-${option.class}`}
                  >
                    {classLabel[option.class]}
                  </span>{' '}
                  {option.access === 'read' && (
                    <span className="jp-hpc-SubmitForm-hint">
                      {trans.__('read-only')}
                    </span>
                  )}
                </label>
              </li>
            ))}
          </ul>
        </>
      )}
      {sensitive.length > 0 && (
        <p className="jp-hpc-Form-warning" role="note">
          {props.sensitiveHint}
        </p>
      )}
      {props.children}
    </fieldset>
  );
}
