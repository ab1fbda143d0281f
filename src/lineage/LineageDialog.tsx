import { Dialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import { ActionButton } from '../ui/ActionButton';
import { Alert } from '../ui/Alert';
import { TranslatorContext, useTranslator } from '../ui/translator';
import { LineageChain, type LineageModel } from './LineageModel';

/**
 * The **Lineage** dialog of an object of a tier: "Made by job 42
 * (clean.ipynb, parameters…) from project:ml101/incoming/train.csv (size,
 * modified, etag)", then the same for each input a job made, back to the raw
 * inputs; withheld inputs are named as such.
 */
export async function showLineage(options: {
  trans: TranslationBundle;
  model: LineageModel;
  /** Opens a job's details page (the dialog closes first). */
  onOpenJob: (jobId: string) => void;
}): Promise<void> {
  const { trans, model } = options;
  const dialog = new Dialog({
    title: trans.__('Lineage of %1:%2', model.tier, model.path),
    body: ReactWidget.create(
      <TranslatorContext.Provider value={trans}>
        <UseSignal signal={model.changed}>
          {() => (
            <LineageView
              model={model}
              onOpenJob={id => {
                dialog.reject();
                options.onOpenJob(id);
              }}
              onResubmit={id =>
                void model.resubmit(id).then(job => {
                  if (job) {
                    dialog.reject();
                    options.onOpenJob(job.id);
                  }
                })
              }
            />
          )}
        </UseSignal>
      </TranslatorContext.Provider>
    ),
    buttons: [Dialog.okButton({ label: trans.__('Close') })]
  });
  dialog.addClass('jp-hpc-LineageDialog');
  void model.load();
  await dialog.launch();
}

/** The chain of a lineage; no logic beyond showing the model. */
export function LineageView(props: {
  model: LineageModel;
  onOpenJob: (jobId: string) => void;
  onResubmit: (jobId: string) => void;
}): JSX.Element {
  const trans = useTranslator();
  const { model } = props;
  const lineage = model.lineage;
  if (model.error) {
    return <Alert message={model.error.message} onRetry={() => model.load()} />;
  }
  if (!lineage) {
    return <p className="jp-hpc-Section-empty">{trans.__('Loading…')}</p>;
  }
  const steps = LineageChain.steps(lineage);
  const first = steps[0];
  return (
    <div className="jp-hpc-Lineage" data-testid="hpc-lineage">
      {steps.length === 0 && (
        <p className="jp-hpc-Section-empty">
          {trans.__(
            'No job of the bridge wrote %1: it is a raw input (uploaded or copied).',
            LineageChain.uriOf(lineage)
          )}
        </p>
      )}
      <ol
        className="jp-hpc-Lineage-chain"
        aria-label={trans.__('Lineage chain')}
      >
        {steps.map(step => (
          <li key={step.uri} className="jp-hpc-Lineage-step">
            <div className="jp-hpc-Lineage-object" title={step.uri}>
              <code>{step.uri}</code>
              <span className="jp-hpc-Lineage-version">
                {LineageChain.version(step.record.version, trans)}
              </span>
            </div>
            <p className="jp-hpc-Lineage-madeBy">
              {trans.__('Made by')}{' '}
              <button
                type="button"
                className="jp-hpc-LinkButton"
                data-testid="hpc-lineage-job"
                aria-label={trans.__('Open job %1', step.record.job.id)}
                onClick={() => props.onOpenJob(step.record.job.id)}
              >
                {trans.__('job %1', step.record.job.id)}
              </button>{' '}
              <span className="jp-hpc-Lineage-job">
                {trans.__('(%1)', LineageChain.jobLabel(step.record))}
              </span>{' '}
              {step.inputs.length === 0
                ? trans.__('from no declared input')
                : trans.__('from')}
            </p>
            {step.record.job.calls && (
              <ul
                className="jp-hpc-Lineage-calls"
                aria-label={trans.__(
                  'Endpoints job %1 called',
                  step.record.job.id
                )}
              >
                {LineageChain.calls(step.record, trans).map(line => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            )}
            <ul className="jp-hpc-Lineage-inputs">
              {step.inputs.map(input => (
                <li
                  key={input.uri}
                  className={`jp-hpc-Lineage-input jp-mod-${input.kind}`}
                >
                  <code title={input.uri}>{input.uri}</code>{' '}
                  <span className="jp-hpc-Lineage-version">
                    {input.kind === 'withheld'
                      ? trans.__('withheld: you may not read it')
                      : [
                          LineageChain.version(input.version, trans),
                          input.kind === 'raw' ? trans.__('raw input') : ''
                        ]
                          .filter(Boolean)
                          .join(' · ')}
                  </span>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
      {lineage.truncated && (
        <p className="jp-hpc-Form-note">
          {trans.__('The chain goes further back than the bridge follows.')}
        </p>
      )}
      {first && (
        <div className="jp-hpc-Lineage-actions">
          <ActionButton
            kind="accept"
            disabled={model.resubmitting}
            data-testid="hpc-lineage-rerun"
            onClick={() => props.onResubmit(first.record.job.id)}
          >
            {trans.__('Re-run with the same inputs')}
          </ActionButton>
          <Button
            small
            onClick={() => props.onOpenJob(first.record.job.id)}
            aria-label={trans.__('Open job %1', first.record.job.id)}
          >
            {trans.__('Open job')}
          </Button>
        </div>
      )}
      {model.resubmitError && (
        <p className="jp-hpc-Form-error" role="alert">
          {model.resubmitError.message}
        </p>
      )}
    </div>
  );
}
