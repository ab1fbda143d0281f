import { Dialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';
import { TranslatorContext } from './translator';

/** A dialog body holding a form's value; `render` draws the fields. */
export class FormBody<T> extends ReactWidget implements Dialog.IBodyWidget<T> {
  constructor(
    private readonly _trans: TranslationBundle,
    private _value: T,
    private readonly _render: FormBody.Render<T>,
    private readonly _className: string
  ) {
    super();
    this.addClass(_className);
  }

  getValue(): T {
    return this._value;
  }

  /** Set by `askForm` while the form is shown. */
  onPick: FormBody.Pick<T> | null = null;

  /** The same form with `value` (a closed dialog disposes its body). */
  withValue(value: T): FormBody<T> {
    return new FormBody(this._trans, value, this._render, this._className);
  }

  render(): JSX.Element {
    return (
      <TranslatorContext.Provider value={this._trans}>
        <form
          className="jp-hpc-Form"
          onSubmit={event => event.preventDefault()}
        >
          {this._render(
            this._value,
            value => {
              this._value = value;
              this.update();
            },
            choose => this.onPick?.(choose)
          )}
        </form>
      </TranslatorContext.Provider>
    );
  }
}

export namespace FormBody {
  /** Draws the fields of `value`; `set` changes it, `pick` chooses part of it. */
  export type Render<T> = (
    value: T,
    set: (value: T) => void,
    pick: Pick<T>
  ) => JSX.Element;

  /**
   * Chooses part of the value in a dialog of its own (a file dialog): resolves
   * with the new value, or `null` to keep the old one.
   */
  export type Pick<T> = (choose: (value: T) => Promise<T | null>) => void;
}

/**
 * Shows a form with Cancel and `okLabel`; its value once accepted, else `null`.
 * JupyterLab shows one dialog at a time: a field that picks in a dialog of its
 * own closes the form, and the form opens again with the value picked.
 */
export async function askForm<T>(
  trans: TranslationBundle,
  title: string,
  body: FormBody<T>,
  okLabel: string
): Promise<T | null> {
  for (let form = body; ;) {
    const dialog = new Dialog({
      title,
      body: form,
      focusNodeSelector: 'input',
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: okLabel })
      ]
    });
    const shown = form;
    const asked: { pick: (() => Promise<T>) | null } = { pick: null };
    shown.onPick = choose => {
      const value = shown.getValue();
      // A picker that fails leaves the form as it was.
      asked.pick = async () => (await choose(value).catch(() => null)) ?? value;
      dialog.reject();
    };
    const result = await dialog.launch();
    if (asked.pick === null) {
      return result.button.accept ? result.value : null;
    }
    form = shown.withValue(await asked.pick());
  }
}

/**
 * The frame of the panel's form dialogs: a form of `className` drawn by
 * `render`, starting from `value`, titled `title`, with Cancel and `okLabel`.
 * Its value once accepted, else `null` (see `askForm`).
 */
export function askFormDialog<T>(options: {
  trans: TranslationBundle;
  title: string;
  okLabel: string;
  className: string;
  value: T;
  render: FormBody.Render<T>;
}): Promise<T | null> {
  const { trans, title, okLabel, className, value, render } = options;
  return askForm(
    trans,
    title,
    new FormBody(trans, value, render, className),
    okLabel
  );
}

/** Why the last try of a form was refused, above its fields (nothing without one). */
export function FormError(props: {
  message?: string | null;
  className?: string;
}): JSX.Element | null {
  return props.message ? (
    <p
      className={`jp-hpc-Form-error${props.className ? ` ${props.className}` : ''}`}
      role="alert"
    >
      {props.message}
    </p>
  ) : null;
}

/** A labelled select of a form. */
export function SelectField(props: {
  label: string;
  value: string;
  options: ReadonlyArray<{ value: string; label: string }>;
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <label className="jp-hpc-Form-field">
      <span>{props.label}</span>
      <select
        className="jp-mod-styled"
        value={props.value}
        onChange={event => props.onChange(event.currentTarget.value)}
      >
        {props.options.map(option => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </label>
  );
}
