import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';
import { TranslatorContext } from './translator';

/** A dialog body holding a form's value; `render` draws the fields. */
export class FormBody<T> extends ReactWidget implements Dialog.IBodyWidget<T> {
  constructor(
    private readonly _trans: TranslationBundle,
    private _value: T,
    private readonly _render: (
      value: T,
      set: (value: T) => void
    ) => JSX.Element,
    className: string
  ) {
    super();
    this.addClass(className);
  }

  getValue(): T {
    return this._value;
  }

  render(): JSX.Element {
    return (
      <TranslatorContext.Provider value={this._trans}>
        <form
          className="jp-hpc-Form"
          onSubmit={event => event.preventDefault()}
        >
          {this._render(this._value, value => {
            this._value = value;
            this.update();
          })}
        </form>
      </TranslatorContext.Provider>
    );
  }
}

/** Shows a form with Cancel and `okLabel`; its value once accepted, else `null`. */
export async function askForm<T>(
  trans: TranslationBundle,
  title: string,
  body: FormBody<T>,
  okLabel: string
): Promise<T | null> {
  const result = await showDialog({
    title,
    body,
    focusNodeSelector: 'input',
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: okLabel })
    ]
  });
  return result.button.accept ? result.value : null;
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
