import type { Job } from '@hpc-bridge/server/contract';
import React from 'react';
import { LineageChain } from '../lineage/LineageModel';
import { useTranslator } from '../ui/translator';

/**
 * A job's declared data on its page: the inputs with the versions read at
 * submit, the outputs (per element) with their stage-out state, and the
 * trigger run that submitted it, and the endpoints it declared it calls.
 */
export function JobDataView(props: {
  job: Job;
  /** Shows the lineage of a staged-out output. */
  onShowLineage: (tier: string, path: string) => void;
}): JSX.Element | null {
  const trans = useTranslator();
  const { job } = props;
  const inputs = job.inputs ?? [];
  const outputs = job.outputs ?? [];
  const endpoints = job.endpoints ?? [];
  if (
    inputs.length === 0 &&
    outputs.length === 0 &&
    endpoints.length === 0 &&
    !job.trigger
  ) {
    return null;
  }
  const stageOut = {
    pending: trans.__('waiting for the job'),
    done: trans.__('copied'),
    skipped: trans.__('skipped: the element did not complete'),
    failed: trans.__('copy failed')
  };
  return (
    <section
      className="jp-hpc-JobPage-section jp-hpc-JobData"
      aria-label={trans.__('Inputs and outputs')}
      data-testid="hpc-job-data"
    >
      <h3 className="jp-hpc-JobPage-heading">
        {trans.__('Inputs and outputs')}
      </h3>
      {job.trigger && (
        <p className="jp-hpc-Section-empty">
          {trans.__(
            'Submitted by run %1 of trigger %2.',
            job.trigger.run,
            job.trigger.id
          )}
        </p>
      )}
      {inputs.length > 0 && (
        <ul className="jp-hpc-JobData-list" aria-label={trans.__('Inputs')}>
          {inputs.map(input => (
            <li
              key={`${input.uri}#${input.element ?? ''}`}
              className="jp-hpc-JobData-item"
            >
              {input.element === undefined ? (
                <code title={input.uri}>{input.uri}</code>
              ) : (
                <>
                  <code title={input.uri}>
                    {`${input.tier}:${input.path}${input.folder ? '/' : ''}`}
                  </code>{' '}
                  <span className="jp-hpc-JobData-version">
                    {trans.__('element %1', input.element)}
                  </span>
                </>
              )}{' '}
              <span className="jp-hpc-JobData-version">
                {LineageChain.version(input.version, trans) ||
                  trans.__('folder')}
              </span>
            </li>
          ))}
        </ul>
      )}
      {endpoints.length > 0 && (
        <ul
          className="jp-hpc-JobData-list"
          aria-label={trans.__('Endpoints this job calls')}
          data-testid="hpc-job-endpoints"
        >
          {endpoints.map(ep => (
            <li key={ep.id} className="jp-hpc-JobData-item">
              {trans.__('calls endpoint')} <code>{ep.name}</code>{' '}
              <span className="jp-hpc-JobData-version">
                {trans.__(
                  'with a key of its own, as HPCB_ENDPOINT_%1_URL and _KEY',
                  ep.env
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
      {outputs.length > 0 && (
        <ul className="jp-hpc-JobData-list" aria-label={trans.__('Outputs')}>
          {outputs.map(output => {
            const uri = `${output.tier}:${output.path}${output.folder ? '/' : ''}`;
            return (
              <li
                key={`${output.uri}#${output.element}`}
                className={`jp-hpc-JobData-item jp-mod-${output.stageOut}`}
                data-testid="hpc-job-output"
              >
                <code title={uri}>{uri}</code>{' '}
                {job.isArray && (
                  <span className="jp-hpc-JobData-version">
                    {trans.__('element %1', output.element)}
                  </span>
                )}{' '}
                <span
                  className={`jp-hpc-StageOut jp-mod-${output.stageOut}`}
                  title={output.error}
                >
                  {stageOut[output.stageOut]}
                </span>
                {output.error && (
                  <span className="jp-hpc-SubmitForm-error">
                    {output.error}
                  </span>
                )}
                {output.stageOut === 'done' && !output.folder && (
                  <button
                    type="button"
                    className="jp-hpc-LinkButton"
                    aria-label={trans.__('Lineage of %1', uri)}
                    onClick={() =>
                      props.onShowLineage(output.tier, output.path)
                    }
                  >
                    {trans.__('lineage')}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
