import React from 'react';
import { Button } from '@jupyterlab/ui-components';
import { Alert } from '../ui/Alert';
import { ActionButton } from '../ui/ActionButton';
import { messageOf } from '../ui/format';
import { when } from '../ui/OptionalSection';
import { useTranslator } from '../ui/translator';
import type { Courses } from './api';
import { CourseForms, type CourseModel, type ICourseForm } from './CourseModel';

/** A labelled text input of the settings form. */
function InputField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  inputMode?: 'numeric' | 'decimal';
  placeholder?: string;
}): JSX.Element {
  return (
    <label>
      {props.label}
      <input
        className="jp-mod-styled"
        inputMode={props.inputMode}
        placeholder={props.placeholder}
        value={props.value}
        onChange={e => props.onChange(e.target.value)}
      />
    </label>
  );
}

/**
 * A labelled choice with "None" first; a value that is not among the choices
 * (no longer listed) stays selectable.
 */
function ChoiceField(props: {
  label: string;
  value: string;
  choices: ReadonlyArray<{ value: string; label: string }>;
  onChange: (value: string) => void;
}): JSX.Element {
  const trans = useTranslator();
  const { value, choices } = props;
  return (
    <label>
      {props.label}
      <select
        className="jp-mod-styled"
        value={value}
        onChange={e => props.onChange(e.target.value)}
      >
        <option value="">{trans.__('None')}</option>
        {choices.map(c => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
        {value !== '' && !choices.some(c => c.value === value) && (
          <option value={value}>{value}</option>
        )}
      </select>
    </label>
  );
}

/** The instructor's settings: title, shared endpoint with budget, dataset folder. */
export function SettingsForm(props: {
  model: CourseModel;
  course: Courses.Course;
  /** Opens the New endpoint dialog. */
  onCreateEndpoint: () => void;
}): JSX.Element {
  const trans = useTranslator();
  const { model, course } = props;
  const [form, setForm] = React.useState<ICourseForm>(() =>
    CourseForms.formOf(course)
  );
  const [error, setError] = React.useState<string | null>(null);
  const [saving, setSaving] = React.useState(false);
  // From the latest state: two changes before a render must not undo each other.
  const set = (patch: Partial<ICourseForm>): void =>
    setForm(current => ({ ...current, ...patch }));
  const input = (
    name: CourseForms.TextField,
    label: string,
    options: { inputMode?: 'numeric' | 'decimal'; placeholder?: string } = {}
  ): JSX.Element => (
    <InputField
      label={label}
      {...options}
      value={form[name]}
      onChange={value => set({ [name]: value })}
    />
  );
  const check = (name: CourseForms.CheckField, label: string): JSX.Element => (
    <label className="jp-hpc-Course-check">
      <input
        type="checkbox"
        checked={form[name]}
        onChange={e => set({ [name]: e.target.checked })}
      />
      {label}
    </label>
  );
  const endpoints = model.endpoints;
  // A shared endpoint stays selectable even when the list has not loaded it.
  const shared = course.endpoint;
  return (
    <form
      className="jp-hpc-Course-form"
      aria-label={trans.__('Settings of %1', course.name)}
      onSubmit={async event => {
        event.preventDefault();
        setSaving(true);
        setError(null);
        try {
          await model.save(course.name, form);
        } catch (e) {
          setError(messageOf(e));
        } finally {
          setSaving(false);
        }
      }}
    >
      {input('title', trans.__('Title'))}
      <label>
        {trans.__('Course endpoint')}
        <select
          className="jp-mod-styled"
          value={form.endpointId}
          onChange={e => set({ endpointId: e.target.value })}
        >
          <option value="">{trans.__('None')}</option>
          {shared && !endpoints.some(e => e.id === shared.id) && (
            <option value={shared.id}>
              {shared.name} ({shared.model})
            </option>
          )}
          {endpoints.map(e => (
            <option key={e.id} value={e.id}>
              {e.name} ({e.model}, {e.state})
            </option>
          ))}
        </select>
      </label>
      {endpoints.length === 0 && shared === null && (
        <div className="jp-hpc-Course-guide" role="note">
          <p className="jp-hpc-Course-note">
            {trans.__(
              'You have no endpoint to share yet. Create one first (visibility “Course” and %1), then choose it here.',
              course.name
            )}
          </p>
          <Button small type="button" onClick={props.onCreateEndpoint}>
            {trans.__('New endpoint…')}
          </Button>
        </div>
      )}
      {form.endpointId !== '' && (
        <>
          {input('tokenBudget', trans.__('Tokens per student'), {
            inputMode: 'numeric'
          })}
          {input(
            'requestsPerMinute',
            trans.__('Requests per minute (empty: unlimited)'),
            { inputMode: 'numeric' }
          )}
          {check(
            'assistantCompletion',
            trans.__('Students may use the course model for inline completion')
          )}
          {check(
            'assistantChat',
            trans.__('Students may use the course model for chat')
          )}
        </>
      )}
      <ChoiceField
        label={trans.__('Dataset tier')}
        value={form.datasetTier}
        choices={model.tiers.map(t => ({ value: t.name, label: t.title }))}
        onChange={v => set({ datasetTier: v })}
      />
      {form.datasetTier !== '' &&
        input('datasetPath', trans.__('Dataset folder'), {
          placeholder: trans.__('e.g. datasets/week1')
        })}
      <ChoiceField
        label={trans.__('Job profile')}
        value={form.jobBaseProfile}
        choices={model.profiles.map(p => ({
          value: p.name,
          label: `${p.title} (${p.partition})`
        }))}
        onChange={v => set({ jobBaseProfile: v })}
      />
      {form.jobBaseProfile !== '' && (
        <>
          {input('jobReservation', trans.__('Reservation (empty: none)'))}
          {input(
            'jobMaxActive',
            trans.__('Jobs at a time per student (empty: unlimited)'),
            { inputMode: 'numeric' }
          )}
          {input(
            'jobGpuHours',
            trans.__('GPU-hours per student (empty: unlimited)'),
            { inputMode: 'decimal' }
          )}
          {check(
            'jobKernel',
            trans.__(
              'Offer it to the class as a notebook kernel on the cluster'
            )
          )}
          {course.jobProfile !== null && (
            <p className="jp-hpc-Course-note">
              {trans.__(
                'Students submit with the profile “%1”.',
                course.jobProfile.profile
              )}
            </p>
          )}
        </>
      )}
      {error !== null && <Alert message={error} />}
      <div className="jp-hpc-Course-buttons">
        <ActionButton kind="accept" type="submit" disabled={saving}>
          {trans.__('Save')}
        </ActionButton>
        {course.updatedBy !== null && (
          <span className="jp-hpc-Course-note">
            {trans.__(
              'Saved by %1, %2',
              course.updatedBy,
              when(course.updatedAt)
            )}
          </span>
        )}
      </div>
    </form>
  );
}
