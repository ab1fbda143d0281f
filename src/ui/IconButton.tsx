import { Button, type LabIcon } from '@jupyterlab/ui-components';
import React from 'react';

/** A small button showing only an icon; `label` is its accessible name. */
export function IconButton(props: {
  label: string;
  icon: LabIcon;
  onClick: () => void;
}): JSX.Element {
  return (
    <Button small minimal aria-label={props.label} onClick={props.onClick}>
      <props.icon.react tag="span" />
    </Button>
  );
}
