import { Clipboard } from '@jupyterlab/apputils';
import { copyIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { IconButton } from './IconButton';
import { useTranslator } from './translator';

/** A value with a Copy button: a read-only field, or a code block. */
export function CopyField(props: {
  label: string;
  value: string;
  code?: boolean;
  /** Whether the code block carries the label as its accessible name. */
  codeLabelled?: boolean;
}): JSX.Element {
  const trans = useTranslator();
  return (
    <div className="jp-hpc-CopyField">
      <div className="jp-hpc-CopyField-header">
        <span className="jp-hpc-CopyField-label">{props.label}</span>
        <IconButton
          label={trans.__('Copy %1', props.label)}
          icon={copyIcon}
          onClick={() => Clipboard.copyToSystem(props.value)}
        />
      </div>
      {props.code ? (
        <pre
          className="jp-hpc-CopyField-code"
          role={props.codeLabelled ? 'group' : undefined}
          aria-label={props.codeLabelled ? props.label : undefined}
        >
          {props.value}
        </pre>
      ) : (
        <input
          className="jp-mod-styled jp-hpc-CopyField-value"
          readOnly
          value={props.value}
          aria-label={props.label}
          onFocus={event => event.currentTarget.select()}
        />
      )}
    </div>
  );
}
