import React from 'react';
import { useTranslator } from './translator';

/** A one-line text input with its label. */
export function TextField(props: {
  label: string;
  value: string;
  placeholder?: string;
  inputMode?: 'numeric';
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <label className="jp-hpc-Form-field">
      <span>{props.label}</span>
      <input
        className="jp-mod-styled"
        type="text"
        value={props.value}
        placeholder={props.placeholder}
        inputMode={props.inputMode}
        spellCheck={false}
        onChange={event => props.onChange(event.currentTarget.value)}
      />
    </label>
  );
}

/** A whole number input with its label; its range is the tooltip. */
export function NumberField(props: {
  label: string;
  value: number;
  min: number;
  max: number;
  onChange: (value: number) => void;
}): JSX.Element {
  const trans = useTranslator();
  return (
    <label
      className="jp-hpc-Form-field"
      title={trans.__('From %1 to %2', props.min, props.max)}
    >
      <span>{props.label}</span>
      <input
        className="jp-mod-styled"
        type="number"
        value={Number.isNaN(props.value) ? '' : props.value}
        min={props.min}
        max={props.max}
        step={1}
        onChange={event =>
          props.onChange(
            event.currentTarget.value === ''
              ? NaN
              : Number(event.currentTarget.value)
          )
        }
      />
    </label>
  );
}

/** A path typed in, or chosen with "Browse…" when `onBrowse` is given. */
export function PathField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** Opens a file dialog. */
  onBrowse?: () => void;
  /** The Browse button's accessible name and tooltip. */
  browseTitle?: string;
}): JSX.Element {
  const trans = useTranslator();
  return (
    <div className="jp-hpc-PathField">
      <TextField
        label={props.label}
        value={props.value}
        onChange={props.onChange}
      />
      {props.onBrowse && (
        <button
          type="button"
          className="jp-mod-styled jp-mod-reject jp-hpc-PathField-browse"
          aria-label={props.browseTitle}
          title={props.browseTitle}
          onClick={props.onBrowse}
        >
          {trans.__('Browse…')}
        </button>
      )}
    </div>
  );
}
