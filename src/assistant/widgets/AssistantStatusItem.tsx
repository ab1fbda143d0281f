import type { AssistantEndpoint } from '@hpc-bridge/server/contract';
import { TextItem } from '@jupyterlab/statusbar';
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { ModelWidget } from '../../ui/ModelWidget';
import { useTranslator } from '../../ui/translator';
import type { AssistantModel } from '../AssistantModel';
import { AssistantStatus } from '../status';

/**
 * The status bar item of the assistant: the model and the tokens left (or why
 * it is unavailable); a click opens the menu (endpoint, inline completion,
 * chat). The plugin hides it when the user has no assistant endpoint.
 */
export class AssistantStatusItem extends ModelWidget<AssistantModel> {
  constructor(options: AssistantStatusItem.IOptions) {
    super({
      model: options.model,
      trans: options.trans,
      classNames: ['jp-hpc-AssistantStatus', 'hpcb-AssistantStatus'],
      render: model => (
        <AssistantStatusItem.View
          endpoint={model.current}
          problem={model.problem}
          inline={model.settings.inlineCompletion}
          onClick={options.onClick}
        />
      )
    });
  }
}

export namespace AssistantStatusItem {
  export interface IOptions {
    model: AssistantModel;
    trans: TranslationBundle;
    /** Opens the menu at the item. */
    onClick: (event: React.MouseEvent | React.KeyboardEvent) => void;
  }

  export interface IViewProps {
    endpoint: AssistantEndpoint | null;
    problem: string | null;
    inline: boolean;
    onClick: (event: React.MouseEvent | React.KeyboardEvent) => void;
  }

  export function View(props: IViewProps): JSX.Element | null {
    const trans = useTranslator();
    const { endpoint, problem, onClick } = props;
    if (endpoint === null) {
      return null;
    }
    const text = AssistantStatus.text(endpoint, problem, trans);
    const modifiers = [
      problem !== null ? 'jp-mod-warn' : '',
      props.inline ? '' : 'jp-mod-off'
    ].join(' ');
    return (
      <span
        className={`jp-hpc-AssistantStatus-content ${modifiers}`}
        title={AssistantStatus.title(endpoint, problem, trans)}
        role="button"
        tabIndex={0}
        aria-haspopup="menu"
        aria-label={text}
        onClick={onClick}
        onKeyDown={event => {
          if (event.key === 'Enter' || event.key === ' ') {
            onClick(event);
          }
        }}
      >
        <TextItem source={text} />
      </span>
    );
  }
}
