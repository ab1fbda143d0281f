import { Button, type LabIcon } from '@jupyterlab/ui-components';
import React from 'react';

/** A small button showing only an icon; `label` is its accessible name. */
export function IconButton(props: {
  label: string;
  icon: LabIcon;
  onClick: () => void;
  /** The tooltip, when the label alone does not say enough. */
  title?: string;
}): JSX.Element {
  return (
    <Button
      small
      minimal
      aria-label={props.label}
      title={props.title}
      onClick={props.onClick}
    >
      <props.icon.react tag="span" />
    </Button>
  );
}
