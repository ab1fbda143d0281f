import React from 'react';
import { useTranslator } from '../ui/translator';
import type { JobEndpointChoice } from './endpointChoice';
import type { JobData } from './jobData';

/**
 * "Endpoints this job calls" in the submit form: the user's endpoints, each
 * a checkbox. The job gets a key of each (revoked when it ends) and the
 * gateway's URL; lineage then names the calls it made.
 */
export function JobEndpointsField(props: {
  choice: JobEndpointChoice;
  rows: JobData.IRows;
  error?: string;
  onChange: (rows: JobData.IRows) => void;
}): JSX.Element {
  const trans = useTranslator();
  const { choice, rows } = props;
  const { options, loading, error } = choice.state;
  const chosen = rows.endpoints ?? [];
  return (
    <fieldset
      className="jp-hpc-SubmitForm-group jp-hpc-JobEndpoints"
      data-testid="hpc-submit-endpoints"
    >
      <legend>{trans.__('Endpoints this job calls (optional)')}</legend>
      <p className="jp-hpc-SubmitForm-hint">
        {trans.__(
          'The job gets a key of each endpoint, revoked when it ends: OPENAI_BASE_URL and OPENAI_API_KEY for the first, HPCB_ENDPOINT_<NAME>_URL and _KEY for each.'
        )}
      </p>
      {loading && options.length === 0 && (
        <p className="jp-hpc-Section-empty">{trans.__('Loading endpoints…')}</p>
      )}
      {error && (
        <p className="jp-hpc-SubmitForm-error">
          {trans.__('Cannot list your endpoints: %1', error.message)}
        </p>
      )}
      {!loading && !error && options.length === 0 && (
        <p className="jp-hpc-Section-empty">
          {trans.__('You have no endpoints.')}
        </p>
      )}
      <ul
        className="jp-hpc-JobData-list"
        aria-label={trans.__('Endpoints this job calls')}
      >
        {options.map(ep => (
          <li key={ep.id} className="jp-hpc-JobData-row">
            <label>
              <input
                type="checkbox"
                checked={chosen.includes(ep.name)}
                onChange={event =>
                  props.onChange({
                    ...rows,
                    endpoints: choice.toggle(
                      chosen,
                      ep.name,
                      event.currentTarget.checked
                    )
                  })
                }
              />{' '}
              <code>{ep.name}</code>{' '}
              <span className="jp-hpc-JobData-version">
                {trans.__('%1, %2', ep.model, ep.state)}
              </span>
            </label>
          </li>
        ))}
      </ul>
      {props.error && (
        <span className="jp-hpc-SubmitForm-error">{props.error}</span>
      )}
    </fieldset>
  );
}
