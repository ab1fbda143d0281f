import { Button } from '@jupyterlab/ui-components';
import React from 'react';

/**
 * A small JupyterLab button in the style of its dialogs' buttons: `accept`
 * for the primary action of a form or card, `warn` for a destructive one.
 */
export function ActionButton(
  props: React.ButtonHTMLAttributes<HTMLButtonElement> & {
    kind: 'accept' | 'warn';
  }
): JSX.Element {
  const { kind, className, ...buttonProps } = props;
  const classNames = ['jp-mod-styled', `jp-mod-${kind}`, 'jp-hpc-ActionButton'];
  if (className) {
    classNames.push(className);
  }
  return <Button small {...buttonProps} className={classNames.join(' ')} />;
}
