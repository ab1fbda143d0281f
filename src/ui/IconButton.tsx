import { Button, type LabIcon } from '@jupyterlab/ui-components';
import React from 'react';

/** A small button showing only an icon; `label` is its accessible name. */
export function IconButton(props: {
  label: string;
  icon: LabIcon;
  onClick: () => void;
  /** The tooltip, when the label alone does not say enough. */
  title?: string;
  className?: string;
}): JSX.Element {
  return (
    <Button
      small
      minimal
      className={props.className}
      aria-label={props.label}
      title={props.title ?? props.label}
      onClick={props.onClick}
    >
      <props.icon.react tag="span" />
    </Button>
  );
}
