import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { askForm, FormBody } from '../ui/FormDialog';
import { TextField } from '../ui/FormFields';
import { useTranslator } from '../ui/translator';
import type { UserModelsModel } from './UserModelsModel';

/** The fields of "Register as Model…": the file, a name, a recipe. */
export function RegisterModelForm(props: {
  value: UserModelsModel.IForm;
  /** The recipes that take user files. */
  recipes: readonly string[];
  errors: UserModelsModel.Errors;
  onChange: (value: UserModelsModel.IForm) => void;
}): JSX.Element {
  const trans = useTranslator();
  const { value, errors } = props;
  const error = (field: keyof UserModelsModel.Errors) =>
    errors[field] ? (
      <p
        className="jp-hpc-Form-error"
        role="alert"
        data-testid={`hpc-register-model-error-${field}`}
      >
        {errors[field]}
      </p>
    ) : null;
  return (
    <>
      <p className="jp-hpc-Form-note">
        {trans.__('File')} <code>{value.uri}</code>
      </p>
      {error('uri')}
      <TextField
        label={trans.__('Model name')}
        value={value.name}
        placeholder={trans.__('e.g. my-model')}
        onChange={name => props.onChange({ ...value, name })}
      />
      {error('name')}
      <label className="jp-hpc-Form-field">
        <span>{trans.__('Recipe')}</span>
        <select
          className="jp-mod-styled"
          value={value.recipe}
          onChange={event =>
            props.onChange({ ...value, recipe: event.currentTarget.value })
          }
        >
          {props.recipes.map(recipe => (
            <option key={recipe} value={recipe}>
              {recipe}
            </option>
          ))}
        </select>
      </label>
      {error('recipe')}
      <p className="jp-hpc-Form-note">
        {trans.__(
          'Only you see and use it: create an endpoint with it, or roll one to it.'
        )}
      </p>
    </>
  );
}

/**
 * Asks for a model's name and recipe and registers the file; a refusal of
 * the bridge reopens the dialog with the reason next to its field. Resolves
 * with whether a model was registered.
 */
export async function registerModel(
  trans: TranslationBundle,
  model: UserModelsModel,
  tier: string,
  path: string
): Promise<boolean> {
  if (!model.loaded) {
    await model.load();
  }
  let form: UserModelsModel.IForm | null = model.form(tier, path);
  let errors: UserModelsModel.Errors = {};
  const recipes = model.settings?.recipes ?? [];
  for (;;) {
    const shownErrors = errors;
    form = await askForm(
      trans,
      trans.__('Register %1 as a model', path.split('/').pop() ?? path),
      new FormBody<UserModelsModel.IForm>(
        trans,
        form,
        (value, set) => (
          <RegisterModelForm
            value={value}
            recipes={recipes}
            errors={shownErrors}
            onChange={set}
          />
        ),
        'jp-hpc-RegisterModelDialog'
      ),
      trans.__('Register')
    );
    if (!form) {
      return false;
    }
    const result = await model.register(form);
    if (!result.errors) {
      return true;
    }
    errors = result.errors;
  }
}
