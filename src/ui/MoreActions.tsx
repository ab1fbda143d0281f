import { Button, ellipsesIcon, type LabIcon } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Menu } from '@lumino/widgets';
import React from 'react';

/** One entry of a "…" menu. */
export interface IMenuAction {
  /** Unique within the menu. */
  id: string;
  label: string;
  caption?: string;
  icon?: LabIcon;
  /** `false` shows the entry greyed out. */
  enabled?: boolean;
  execute: () => void;
}

/**
 * A "…" button that opens a JupyterLab menu of actions below itself; opened
 * from the keyboard, the menu's first entry is active.
 */
export function MoreActionsButton(props: {
  /** The button's accessible name, e.g. "More actions for job x". */
  label: string;
  actions: readonly IMenuAction[];
  disabled?: boolean;
}): JSX.Element {
  const open = (event: React.MouseEvent<HTMLElement>) => {
    const commands = new CommandRegistry();
    const menu = new Menu({ commands });
    menu.addClass('jp-hpc-MoreActionsMenu');
    for (const action of props.actions) {
      commands.addCommand(action.id, {
        label: action.label,
        caption: action.caption,
        icon: action.icon,
        isEnabled: () => action.enabled !== false,
        execute: action.execute,
        describedBy: { args: { type: 'object', properties: {} } }
      });
      menu.addItem({ command: action.id });
    }
    // The menu runs the chosen command after closing: dispose of it afterwards.
    menu.aboutToClose.connect(() => {
      setTimeout(() => menu.dispose());
    });
    const anchor = event.currentTarget.getBoundingClientRect();
    menu.open(anchor.left, anchor.bottom);
    // A click from the keyboard (Enter, Space) has no pointer position.
    if (event.detail === 0) {
      menu.activateNextItem();
    }
  };
  return (
    <Button
      small
      minimal
      className="jp-hpc-MoreActions"
      aria-label={props.label}
      aria-haspopup="menu"
      title={props.label}
      disabled={props.disabled}
      onClick={open}
    >
      <ellipsesIcon.react tag="span" />
    </Button>
  );
}
