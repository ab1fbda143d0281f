import type { Job } from '@hpc-bridge/server/contract';
import { Dialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import { ClusterDown, DataChecks, Field, Refusal } from './SubmitFormParts';
import type { SubmitModel } from './SubmitModel';
import type { ITierFilePicker } from '../tokens';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { TiersField } from '../storage/TiersField';
import { JobData } from './jobData';
import { JobDataField } from './JobDataField';
import { JobEndpointsField } from './JobEndpointsField';
import { TranslatorContext, useTranslator } from '../ui/translator';

/**
 * The **Submit to cluster** dialog. Its Submit button sends the request and
 * keeps the dialog open with the bridge's error when it fails; it resolves
 * with the submitted job.
 */
export class SubmitDialog extends Dialog<Job | null> {
  constructor(options: SubmitDialog.IOptions) {
    const { model, trans, browse } = options;
    const picker: { onBrowse: SubmitDialog.OnBrowse | null } = {
      onBrowse: null
    };
    const body = new SubmitDialog.Body({
      model,
      trans,
      onBrowse: browse
        ? (kind, index, tier) => picker.onBrowse?.(kind, index, tier)
        : undefined
    });
    const buttons = [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Submit') })
    ];
    super({
      title: options.title ?? trans.__('Submit to cluster'),
      body,
      buttons,
      defaultButton: 1,
      focusNodeSelector: 'select, input'
    });
    this.addClass('jp-hpc-SubmitDialog');
    this._model = model;
    // The file dialog waits for this one to close: close, pick, then reopen.
    picker.onBrowse = (kind, index, tier) => {
      const rows = model.data;
      const row =
        kind === 'input' ? rows.inputs[index] : rows.outputs[index]?.uri;
      const current =
        JobData.tierOf(row ?? '') === tier ? JobData.pathOf(row ?? '') : '';
      this._picking = async () => {
        const folder = kind === 'output';
        const path = await browse?.(tier, current, { folder });
        if (path !== null && path !== undefined && !model.isDisposed) {
          const uri = `${tier}:${path}${folder && path ? '/' : ''}`;
          model.setData(JobData.withUri(model.data, kind, index, uri));
        }
      };
      this.reject();
    };
    this._accept = buttons.map(button => button.accept);
    model.changed.connect(() => this._checkValidation(), this);
  }

  /** Submit is also disabled while the bridge is known to refuse the choice. */
  protected _checkValidation(): void {
    super._checkValidation();
    if (this._model.refusal !== null) {
      this.node
        .querySelectorAll<HTMLButtonElement>('.jp-Dialog-footer .jp-mod-accept')
        .forEach(button => (button.disabled = true));
    }
  }

  resolve(index?: number): void {
    const accept = this._accept[index ?? 1];
    if (!accept || this._model.submitted) {
      super.resolve(index);
      return;
    }
    void this._model.submit().then(job => {
      if (job) {
        super.resolve(index);
      }
    });
  }

  /** Set when a field closed the dialog to pick a file: pick, then show the form again. */
  get picking(): (() => Promise<void>) | null {
    return this._picking;
  }

  dispose(): void {
    if (!this._picking) {
      this._model.dispose();
    }
    super.dispose();
  }

  private readonly _model: SubmitModel;
  private _picking: (() => Promise<void>) | null = null;
  private readonly _accept: boolean[];
}

export namespace SubmitDialog {
  export interface IOptions {
    model: SubmitModel;
    trans: TranslationBundle;
    title?: string;
    /** Chooses a file or folder of a tier (the inputs' and outputs' "Browse…"). */
    browse?: ITierFilePicker['pick'];
  }

  /** A data row's "Browse…" in the tier `tier`. */
  export type OnBrowse = (
    kind: 'input' | 'output',
    index: number,
    tier: string
  ) => void;

  /**
   * Shows the dialog until the job is submitted or the user cancels; a
   * "Browse…" closes it for the file dialog and it opens again with the path.
   */
  export async function run(options: IOptions): Promise<Job | null> {
    for (;;) {
      const dialog = new SubmitDialog(options);
      const result = await dialog.launch();
      const picking = dialog.picking;
      if (!picking) {
        return result.button.accept ? result.value : null;
      }
      await picking().catch(() => undefined);
    }
  }

  export class Body
    extends ReactWidget
    implements Dialog.IBodyWidget<Job | null>
  {
    constructor(options: {
      model: SubmitModel;
      trans: TranslationBundle;
      onBrowse?: OnBrowse;
    }) {
      super();
      this._model = options.model;
      this._trans = options.trans;
      this._onBrowse = options.onBrowse;
      this.addClass('jp-hpc-SubmitForm-widget');
    }

    getValue(): Job | null {
      return this._model.submitted;
    }

    render(): JSX.Element {
      const model = this._model;
      return (
        <TranslatorContext.Provider value={this._trans}>
          <ErrorBoundary>
            <UseSignal signal={model.changed}>
              {() => <Form model={model} onBrowse={this._onBrowse} />}
            </UseSignal>
          </ErrorBoundary>
        </TranslatorContext.Provider>
      );
    }

    private readonly _model: SubmitModel;
    private readonly _trans: TranslationBundle;
    private readonly _onBrowse: OnBrowse | undefined;
  }

  export function Form(props: {
    model: SubmitModel;
    onBrowse?: OnBrowse;
  }): JSX.Element {
    const trans = useTranslator();
    const { model } = props;
    const errors = model.errors;
    const profile = model.profile;
    const resourceLabels: Record<SubmitModel.Resource, string> = {
      timeMinutes: trans.__('Time (minutes)'),
      cpus: trans.__('CPUs'),
      memoryMB: trans.__('Memory (MB)'),
      gpus: trans.__('GPUs')
    };
    const parameterNames = Object.keys(model.parameters);
    const elements = model.sweepElements;
    const down = model.clusters.down(profile);
    const estimate = model.estimate;
    return (
      <form
        className="jp-hpc-SubmitForm"
        aria-label={trans.__('Submit to cluster')}
        onSubmit={event => event.preventDefault()}
      >
        <p className="jp-hpc-SubmitForm-notebook">
          {model.cells
            ? trans._n(
                '%2: %1 cell (the cells tagged "setup" and the selection)',
                '%2: %1 cells (the cells tagged "setup" and the selection)',
                model.cells.length,
                model.notebookPath
              )
            : model.notebookPath}
        </p>
        {model.profilesError && (
          <div className="jp-hpc-Alert jp-mod-error" role="alert">
            <p className="jp-hpc-Alert-message">
              {model.profilesError.message}
            </p>
          </div>
        )}
        <fieldset className="jp-hpc-SubmitForm-group">
          <legend>{trans.__('Job')}</legend>
          <Field
            id="jp-hpc-submit-name"
            label={trans.__('Job name')}
            error={errors['name']}
          >
            <input
              className="jp-mod-styled"
              value={model.name}
              onChange={event => model.setName(event.target.value)}
            />
          </Field>
          <Field
            id="jp-hpc-submit-profile"
            label={trans.__('Profile')}
            error={
              model.loadingProfiles
                ? undefined
                : (errors['profile'] ??
                  (model.refusal
                    ? trans.__(
                        'Not on a partition for sensitive data: see Storage tiers.'
                      )
                    : undefined))
            }
            hint={profile?.description}
          >
            <select
              className="jp-mod-styled"
              value={profile?.name ?? ''}
              disabled={model.loadingProfiles}
              onChange={event => model.setProfile(event.target.value)}
            >
              {model.loadingProfiles && (
                <option value="">{trans.__('Loading profiles…')}</option>
              )}
              {model.profiles.map(p => (
                <option key={p.name} value={p.name}>
                  {model.clusters.down(p)
                    ? trans.__(
                        '%1 (%2 on %3, which is down)',
                        p.title,
                        p.partition,
                        p.cluster
                      )
                    : trans.__(
                        '%1 (%2 on %3)',
                        p.title,
                        p.partition,
                        p.cluster
                      )}
                </option>
              ))}
            </select>
          </Field>
          <ClusterDown cluster={down} />
        </fieldset>
        {profile && (
          <fieldset className="jp-hpc-SubmitForm-group jp-hpc-SubmitForm-resources">
            <legend>{trans.__('Resources')}</legend>
            {model.shownResources.map(key => (
              <Field
                key={key}
                id={`jp-hpc-submit-${key}`}
                label={resourceLabels[key]}
                error={errors[key]}
                hint={trans.__('%1–%2', profile[key].min, profile[key].max)}
              >
                <input
                  className="jp-mod-styled"
                  type="number"
                  min={profile[key].min}
                  max={profile[key].max}
                  step={1}
                  value={model.resources[key]}
                  onChange={event => model.setResource(key, event.target.value)}
                />
              </Field>
            ))}
          </fieldset>
        )}
        <fieldset className="jp-hpc-SubmitForm-group jp-hpc-SubmitForm-parameters">
          <legend>{trans.__('Parameters')}</legend>
          {parameterNames.length === 0 ? (
            <p className="jp-hpc-SubmitForm-hint">
              {trans.__(
                'This notebook has no cell tagged "parameters": nothing to set.'
              )}
            </p>
          ) : (
            <table className="jp-hpc-SubmitForm-parameterTable">
              <thead>
                <tr>
                  <th scope="col">{trans.__('Parameter')}</th>
                  <th scope="col">{trans.__('Value')}</th>
                  <th scope="col">{trans.__('Sweep values')}</th>
                </tr>
              </thead>
              <tbody>
                {parameterNames.map(name => (
                  <tr key={name}>
                    <th scope="row">
                      <code>{name}</code>
                    </th>
                    <td>
                      <input
                        className="jp-mod-styled"
                        aria-label={trans.__('Value of %1', name)}
                        aria-invalid={
                          errors[`param:${name}`] ? true : undefined
                        }
                        value={model.parameters[name]}
                        disabled={!!model.sweep[name]?.trim()}
                        onChange={event =>
                          model.setParameter(name, event.target.value)
                        }
                      />
                      {errors[`param:${name}`] && (
                        <span className="jp-hpc-SubmitForm-error">
                          {errors[`param:${name}`]}
                        </span>
                      )}
                    </td>
                    <td>
                      <input
                        className="jp-mod-styled"
                        aria-label={trans.__('Sweep values of %1', name)}
                        aria-invalid={
                          errors[`sweep:${name}`] ? true : undefined
                        }
                        placeholder={trans.__('e.g. 1, 2, 3')}
                        value={model.sweep[name] ?? ''}
                        onChange={event =>
                          model.setSweep(name, event.target.value)
                        }
                      />
                      {errors[`sweep:${name}`] && (
                        <span className="jp-hpc-SubmitForm-error">
                          {errors[`sweep:${name}`]}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {elements > 1 && (
            <p className="jp-hpc-SubmitForm-sweep" role="status">
              {trans.__('%1 jobs in one array', elements)}
            </p>
          )}
          {errors['sweep'] && (
            <span className="jp-hpc-SubmitForm-error">{errors['sweep']}</span>
          )}
        </fieldset>
        <TiersField
          options={model.tierOptions}
          chosen={model.tiers}
          loading={model.loadingTiers}
          error={model.tiersError?.message ?? errors['tiers'] ?? null}
          sensitiveHint={trans.__(
            'Sensitive data: the job may run only on a partition approved for it (the bridge refuses others), and every use is recorded in the audit log.'
          )}
          onChange={tiers => model.setTiers(tiers)}
        >
          {model.refusal && <Refusal model={model} refusal={model.refusal} />}
        </TiersField>
        <JobDataField
          rows={model.data}
          errors={errors}
          tiers={[...new Set(model.tierOptions.map(option => option.tier))]}
          onChange={rows => model.setData(rows)}
          onBrowse={props.onBrowse}
        />
        <JobEndpointsField
          choice={model.endpoints}
          rows={model.data}
          error={errors['endpoints']}
          onChange={rows => model.setData(rows)}
        />
        <fieldset className="jp-hpc-SubmitForm-group">
          <legend>{trans.__('When it ends')}</legend>
          <Field
            id="jp-hpc-submit-webhook"
            label={trans.__('Webhook URL (optional)')}
            error={errors['webhookUrl']}
            hint={trans.__('Receives the job as JSON (POST) when it ends.')}
          >
            <input
              className="jp-mod-styled"
              type="url"
              placeholder={trans.__('https://…')}
              value={model.webhookUrl}
              onChange={event => model.setWebhookUrl(event.target.value)}
            />
          </Field>
        </fieldset>
        <div
          className="jp-hpc-SubmitForm-estimate"
          role="status"
          aria-live="polite"
          aria-label={trans.__('Expected start')}
        >
          {estimate.loading
            ? trans.__('Asking SLURM when the job would start…')
            : estimate.error
              ? trans.__('No estimate: %1', estimate.error.message)
              : estimate.result
                ? estimate.result.expectedStart
                  ? trans.__(
                      'Expected start: %1',
                      new Date(estimate.result.expectedStart).toLocaleString()
                    )
                  : estimate.result.message
                : null}
        </div>
        <DataChecks data={estimate.result?.data} />
        {(errors['request'] || errors['notebook']) && (
          <div className="jp-hpc-Alert jp-mod-error" role="alert">
            <p className="jp-hpc-Alert-message">
              {errors['request'] ?? errors['notebook']}
            </p>
          </div>
        )}
        {model.submitError && (
          <div className="jp-hpc-Alert jp-mod-error" role="alert">
            <p className="jp-hpc-Alert-message">
              {trans.__(
                'The bridge refused the job: %1',
                model.submitError.message
              )}
            </p>
          </div>
        )}
        {model.submitting && (
          <p className="jp-hpc-SubmitForm-hint" role="status">
            {trans.__('Submitting…')}
          </p>
        )}
      </form>
    );
  }
}
