import { TriggerCreateSchema } from '@hpc-bridge/server/contract';
import React from 'react';
import { FormError, SelectField } from '../ui/FormDialog';
import { NumberField, PathField, TextField } from '../ui/FormFields';
import { useTranslator } from '../ui/translator';
import { TriggerSummary } from './summary';
import { TriggerForm } from './triggerForm';

/** The new trigger dialog's fields: when, then, and the limits in a fold. */
export function TriggerCreateForm(
  props: TriggerCreateForm.IProps
): JSX.Element {
  const trans = useTranslator();
  const { value, onChange, errors } = props;
  const set = (change: Partial<TriggerForm.IForm>) =>
    onChange({ ...value, ...change });
  const preview = TriggerCreateSchema.safeParse(
    TriggerForm.createRequest(value, null)
  );
  return (
    <div className="jp-hpc-TriggerForm" data-testid="hpc-trigger-form">
      <FormError message={errors.form} />
      <TextField
        label={trans.__('Trigger name')}
        value={value.name}
        placeholder={trans.__('e.g. clean incoming data')}
        onChange={name => set({ name })}
      />
      <FieldError message={errors.name} />
      <fieldset className="jp-hpc-TriggerForm-group">
        <legend>{trans.__('When')}</legend>
        <SelectField
          label={trans.__('Event')}
          value={value.event}
          options={[
            {
              value: 'object.created',
              label: trans.__('A file lands in a tier folder')
            },
            { value: 'job.ended', label: trans.__('A job ends') },
            { value: 'schedule', label: trans.__('On a schedule') }
          ]}
          onChange={event => set({ event: event as TriggerForm.EventKind })}
        />
        <EventFields {...props} set={set} />
      </fieldset>
      <fieldset className="jp-hpc-TriggerForm-group">
        <legend>{trans.__('Then')}</legend>
        <SelectField
          label={trans.__('Action')}
          value={value.action}
          options={[
            { value: 'submit', label: trans.__('Run a notebook') },
            { value: 'copy', label: trans.__('Copy to a tier folder') },
            { value: 'roll-endpoint', label: trans.__('Roll an endpoint') }
          ]}
          onChange={action => set({ action: action as TriggerForm.ActionKind })}
        />
        <ActionFields {...props} set={set} />
      </fieldset>
      <details
        className="jp-hpc-TriggerForm-advanced"
        open={!!(errors.maxConcurrent || errors.maxPerHour)}
      >
        <summary>{trans.__('Advanced')}</summary>
        <div className="jp-hpc-Form-row">
          <NumberField
            label={trans.__('Runs at once')}
            value={value.maxConcurrent}
            min={1}
            max={100}
            onChange={maxConcurrent => set({ maxConcurrent })}
          />
          <NumberField
            label={trans.__('Runs per hour')}
            value={value.maxPerHour}
            min={1}
            max={1000}
            onChange={maxPerHour => set({ maxPerHour })}
          />
        </div>
        <FieldError message={errors.maxConcurrent ?? errors.maxPerHour} />
        <p className="jp-hpc-Form-note">
          {trans.__(
            'Events beyond these limits wait for their turn; none is dropped.'
          )}
        </p>
      </details>
      {preview.success && (
        <p
          className="jp-hpc-TriggerForm-preview"
          role="status"
          data-testid="hpc-trigger-preview"
        >
          {TriggerSummary.sentence(preview.data, trans)}
        </p>
      )}
    </div>
  );
}

export namespace TriggerCreateForm {
  export interface IProps {
    context: TriggerForm.IContext;
    value: TriggerForm.IForm;
    errors: TriggerForm.FieldErrors;
    onChange: (value: TriggerForm.IForm) => void;
    /** Opens a file dialog on a tier ('' for the Jupyter files) at `current`. */
    onBrowse: (
      field: 'watchPath' | 'notebookPath' | 'copyPath',
      tier: string
    ) => void;
  }
}

type IFieldsProps = TriggerCreateForm.IProps & {
  set: (change: Partial<TriggerForm.IForm>) => void;
};

/** An error of the field above, from the contract or the bridge. */
function FieldError(props: { message?: string }): JSX.Element {
  return (
    <FormError
      message={props.message}
      className="jp-hpc-TriggerForm-fieldError"
    />
  );
}

function tierOptions(
  context: TriggerForm.IContext,
  writableOnly = false
): Array<{ value: string; label: string }> {
  return context.tiers
    .filter(tier => !writableOnly || tier.access === 'write')
    .map(tier => ({
      value: tier.name,
      label: `${tier.title} (${tier.name}:)`
    }));
}

function EventFields(props: IFieldsProps): JSX.Element {
  const trans = useTranslator();
  const { value, set, errors, context } = props;
  switch (value.event) {
    case 'object.created':
      return (
        <>
          <SelectField
            label={trans.__('Tier')}
            value={value.watchTier}
            options={tierOptions(context)}
            onChange={watchTier => set({ watchTier, watchPath: '' })}
          />
          <PathField
            label={trans.__('Folder')}
            value={value.watchPath}
            onChange={watchPath => set({ watchPath })}
            onBrowse={() => props.onBrowse('watchPath', value.watchTier)}
            browseTitle={trans.__('Choose the folder to watch')}
          />
          <FieldError message={errors.watchTier ?? errors.watchPath} />
          <TextField
            label={trans.__('Only names matching (optional)')}
            value={value.match}
            placeholder={trans.__('e.g. %1', '*.csv')}
            onChange={match => set({ match })}
          />
          <FieldError message={errors.match} />
        </>
      );
    case 'job.ended':
      return (
        <>
          <div
            className="jp-hpc-TriggerForm-states"
            role="group"
            aria-label={trans.__('Job end states')}
          >
            {TriggerForm.END_STATES.map(state => (
              <label key={state} className="jp-hpc-TriggerForm-state">
                <input
                  type="checkbox"
                  checked={value.states.includes(state)}
                  onChange={event =>
                    set({
                      states: TriggerForm.END_STATES.filter(s =>
                        s === state
                          ? event.currentTarget.checked
                          : value.states.includes(s)
                      )
                    })
                  }
                />
                {state}
              </label>
            ))}
          </div>
          <FieldError message={errors.states} />
          <SelectField
            label={trans.__('Only jobs from trigger')}
            value={value.fromTrigger}
            options={[
              { value: '', label: trans.__('Any of your jobs') },
              ...context.triggers.map(t => ({ value: t.id, label: t.name }))
            ]}
            onChange={fromTrigger => set({ fromTrigger })}
          />
          <FieldError message={errors.fromTrigger} />
        </>
      );
    case 'schedule':
      return (
        <>
          <TextField
            label={trans.__('Cron schedule (UTC)')}
            value={value.cron}
            placeholder={TriggerForm.DEFAULT_CRON}
            onChange={cron => set({ cron })}
          />
          <p
            className="jp-hpc-Form-note"
            data-testid="hpc-trigger-cron-reading"
          >
            {TriggerSummary.cron(value.cron, trans)}
          </p>
          <FieldError message={errors.cron} />
        </>
      );
  }
}

function ActionFields(props: IFieldsProps): JSX.Element {
  const trans = useTranslator();
  const { value, set, errors, context } = props;
  switch (value.action) {
    case 'submit':
      return (
        <>
          <SelectField
            label={trans.__('Notebook from')}
            value={value.notebookTier}
            options={[
              { value: '', label: trans.__('Jupyter files') },
              ...tierOptions(context)
            ]}
            onChange={notebookTier => set({ notebookTier, notebookPath: '' })}
          />
          <PathField
            label={trans.__('Notebook')}
            value={value.notebookPath}
            onChange={notebookPath => set({ notebookPath })}
            onBrowse={() => props.onBrowse('notebookPath', value.notebookTier)}
            browseTitle={trans.__('Choose the notebook to run')}
          />
          <FieldError message={errors.notebookPath} />
          <SelectField
            label={trans.__('Profile')}
            value={value.profile}
            options={context.profiles.map(p => ({
              value: p.name,
              label: trans.__('%1 (%2 on %3)', p.title, p.partition, p.cluster)
            }))}
            onChange={profile => set({ profile })}
          />
          <FieldError message={errors.profile} />
          <TextField
            label={trans.__('Results to (optional)')}
            value={value.output}
            placeholder={trans.__('e.g. %1', 'archive:results/{job}/')}
            onChange={output => set({ output })}
          />
          <p className="jp-hpc-Form-note">
            {trans.__(
              '{job} becomes the job id; the notebook writes its result at HPCB_OUTPUT_0.'
            )}
          </p>
          <FieldError message={errors.output} />
          <TextField
            label={trans.__('Parameter that receives the event')}
            value={value.parameter}
            onChange={parameter => set({ parameter })}
          />
          <FieldError message={errors.parameter} />
        </>
      );
    case 'copy':
      return (
        <>
          <SelectField
            label={trans.__('To tier')}
            value={value.copyTier}
            options={tierOptions(context, true)}
            onChange={copyTier => set({ copyTier, copyPath: '' })}
          />
          <PathField
            label={trans.__('Folder')}
            value={value.copyPath}
            onChange={copyPath => set({ copyPath })}
            onBrowse={() => props.onBrowse('copyPath', value.copyTier)}
            browseTitle={trans.__('Choose the folder to copy to')}
          />
          <FieldError message={errors.copyTier ?? errors.copyPath} />
        </>
      );
    case 'roll-endpoint':
      return (
        <>
          {context.endpoints.length === 0 ? (
            <p className="jp-hpc-Form-warning">
              {trans.__('You have no endpoint to roll; create one first.')}
            </p>
          ) : (
            <SelectField
              label={trans.__('Endpoint')}
              value={value.endpoint}
              options={context.endpoints.map(e => ({
                value: e.id,
                label: `${e.name} (${e.model})`
              }))}
              onChange={endpoint => set({ endpoint })}
            />
          )}
          <FieldError message={errors.endpoint} />
          <NumberField
            label={trans.__('Model file: output number of the ended job')}
            value={value.outputIndex}
            min={0}
            max={31}
            onChange={outputIndex => set({ outputIndex })}
          />
          <FieldError message={errors.outputIndex} />
          <p className="jp-hpc-Form-note">
            {trans.__(
              'Pair it with "a job ends": the endpoint moves to the model file the job wrote, keeping its URL and keys.'
            )}
          </p>
        </>
      );
  }
}
