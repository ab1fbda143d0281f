import { closeIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { IconButton } from '../ui/IconButton';
import { useTranslator } from '../ui/translator';
import { JobData } from './jobData';

/**
 * The submit form's declared data: tier URIs the job reads (inputs) and
 * writes (outputs, with an optional size estimate), each typed or chosen with
 * "Browse…" in the tier's file dialog.
 */
export function JobDataField(props: {
  rows: JobData.IRows;
  errors: Readonly<Record<string, string>>;
  /** The tiers "Browse…" may open when a row names none yet. */
  tiers: readonly string[];
  onChange: (rows: JobData.IRows) => void;
  /** Opens the file dialog of `tier` for a row; absent without tier drives. */
  onBrowse?: (kind: 'input' | 'output', index: number, tier: string) => void;
}): JSX.Element {
  const trans = useTranslator();
  const { rows, errors, onChange, tiers } = props;
  const [browseTier, setBrowseTier] = React.useState(tiers[0] ?? '');
  const tierFor = (uri: string) => JobData.tierOf(uri) || browseTier;
  const browse = (kind: 'input' | 'output', index: number, uri: string) =>
    props.onBrowse && tierFor(uri) ? (
      <button
        type="button"
        className="jp-mod-styled jp-mod-reject jp-hpc-JobData-browse"
        aria-label={
          kind === 'input'
            ? trans.__('Browse for input %1', index + 1)
            : trans.__('Browse for output %1', index + 1)
        }
        onClick={() => props.onBrowse!(kind, index, tierFor(uri))}
      >
        {trans.__('Browse…')}
      </button>
    ) : null;
  const error = (key: string) =>
    errors[key] ? (
      <span className="jp-hpc-SubmitForm-error">{errors[key]}</span>
    ) : null;
  return (
    <fieldset
      className="jp-hpc-SubmitForm-group jp-hpc-JobData"
      data-testid="hpc-submit-data"
    >
      <legend>{trans.__('Data (optional)')}</legend>
      <p className="jp-hpc-SubmitForm-hint">
        {trans.__(
          'Inputs are copied in before the job starts (HPCB_INPUT_<i>); what the job writes at HPCB_OUTPUT_<i> is copied to the output when it ends, with its lineage.'
        )}
      </p>
      {props.onBrowse && tiers.length > 0 && (
        <label className="jp-hpc-JobData-tier">
          <span>{trans.__('Browse in')}</span>
          <select
            className="jp-mod-styled"
            value={browseTier}
            onChange={event => setBrowseTier(event.currentTarget.value)}
          >
            {tiers.map(tier => (
              <option key={tier} value={tier}>
                {`${tier}:`}
              </option>
            ))}
          </select>
        </label>
      )}
      <ul className="jp-hpc-JobData-list" aria-label={trans.__('Inputs')}>
        {rows.inputs.map((uri, i) => (
          <li key={i} className="jp-hpc-JobData-row">
            <input
              className="jp-mod-styled"
              aria-label={trans.__('Input %1', i + 1)}
              aria-invalid={errors[`input:${i}`] ? true : undefined}
              placeholder={trans.__('e.g. %1', 'project:ml101/data/train.csv')}
              value={uri}
              onChange={event =>
                onChange(JobData.withUri(rows, 'input', i, event.target.value))
              }
            />
            {browse('input', i, uri)}
            <IconButton
              label={trans.__('Remove input %1', i + 1)}
              icon={closeIcon}
              onClick={() =>
                onChange({
                  ...rows,
                  inputs: rows.inputs.filter((_, j) => j !== i)
                })
              }
            />
            {error(`input:${i}`)}
          </li>
        ))}
      </ul>
      <button
        type="button"
        className="jp-mod-styled jp-mod-reject"
        data-testid="hpc-submit-add-input"
        onClick={() => onChange({ ...rows, inputs: [...rows.inputs, ''] })}
      >
        {trans.__('Add input')}
      </button>
      <ul className="jp-hpc-JobData-list" aria-label={trans.__('Outputs')}>
        {rows.outputs.map((row, i) => (
          <li key={i} className="jp-hpc-JobData-row">
            <input
              className="jp-mod-styled"
              aria-label={trans.__('Output %1', i + 1)}
              aria-invalid={errors[`output:${i}`] ? true : undefined}
              placeholder={trans.__('e.g. %1', 'archive:results/{job}/')}
              value={row.uri}
              onChange={event =>
                onChange(JobData.withUri(rows, 'output', i, event.target.value))
              }
            />
            <input
              className="jp-mod-styled jp-hpc-JobData-estimate"
              aria-label={trans.__('Estimate of output %1 (MiB)', i + 1)}
              aria-invalid={errors[`estimate:${i}`] ? true : undefined}
              placeholder={trans.__('MiB')}
              inputMode="decimal"
              value={row.estimateMiB}
              onChange={event =>
                onChange({
                  ...rows,
                  outputs: rows.outputs.map((r, j) =>
                    j === i ? { ...r, estimateMiB: event.target.value } : r
                  )
                })
              }
            />
            {browse('output', i, row.uri)}
            <IconButton
              label={trans.__('Remove output %1', i + 1)}
              icon={closeIcon}
              onClick={() =>
                onChange({
                  ...rows,
                  outputs: rows.outputs.filter((_, j) => j !== i)
                })
              }
            />
            {error(`output:${i}`)}
            {error(`estimate:${i}`)}
          </li>
        ))}
      </ul>
      <button
        type="button"
        className="jp-mod-styled jp-mod-reject"
        data-testid="hpc-submit-add-output"
        onClick={() =>
          onChange({
            ...rows,
            outputs: [...rows.outputs, { uri: '', estimateMiB: '' }]
          })
        }
      >
        {trans.__('Add output')}
      </button>
      {error('inputs')}
      {error('outputs')}
    </fieldset>
  );
}
