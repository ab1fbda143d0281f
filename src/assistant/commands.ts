import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { INotebookTracker } from '@jupyterlab/notebook';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Menu } from '@lumino/widgets';
import { CommandIDs, NO_ARGS } from '../commands';
import { hpcBridgeIcon } from '../icons';
import type { AssistantModel } from './AssistantModel';
import type { ChatModel } from './ChatModel';
import { AssistantNotebook } from './notebook';

/** Where the lab shows an `error` output (and stderr streams): rendered as stderr. */
export const ERROR_OUTPUT_SELECTOR =
  '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]';

export interface IAssistantCommandsOptions {
  app: JupyterFrontEnd;
  model: AssistantModel;
  trans: TranslationBundle;
  /** Shows the chat panel (made on first use) and resolves with its model. */
  openChat: () => Promise<ChatModel>;
  /** Turns inline completion on or off (in the settings). */
  setInline: (on: boolean) => void;
  notebooks: INotebookTracker | null;
  palette: ICommandPalette | null;
}

/**
 * The assistant's commands: open the chat, explain an error output, choose the
 * endpoint, toggle inline completion; and the status item's menu of them.
 */
export function addAssistantCommands(options: IAssistantCommandsOptions): Menu {
  const { app, model, trans, notebooks } = options;
  const { commands } = app;

  commands.addCommand(CommandIDs.openChat, {
    label: trans.__('Open Assistant Chat'),
    caption: trans.__('Chat with the model of your assistant endpoint'),
    icon: hpcBridgeIcon,
    describedBy: NO_ARGS,
    isEnabled: () => model.chatEndpoint !== null,
    execute: () => options.openChat()
  });

  commands.addCommand(CommandIDs.explainError, {
    label: trans.__('Explain This Error'),
    caption: trans.__(
      "Send the error and the cell's source to the assistant chat"
    ),
    describedBy: NO_ARGS,
    isVisible: () => model.chatEndpoint !== null,
    execute: async () => {
      const node = app.contextMenuHitTest(n =>
        n.matches(ERROR_OUTPUT_SELECTOR)
      );
      const context =
        node && notebooks
          ? AssistantNotebook.errorContext(notebooks, node)
          : null;
      if (context === null) {
        return;
      }
      const chat = await options.openChat();
      chat.startNew();
      await chat.send(trans.__('Explain this error'), context);
    }
  });

  commands.addCommand(CommandIDs.chooseAssistantEndpoint, {
    label: args =>
      typeof args['label'] === 'string'
        ? args['label']
        : trans.__('Use This Assistant Endpoint'),
    describedBy: {
      args: {
        type: 'object',
        properties: {
          endpointId: { type: 'string' },
          label: { type: 'string' }
        },
        required: ['endpointId']
      }
    },
    isToggled: args => model.current?.endpointId === args['endpointId'],
    execute: args => {
      if (typeof args['endpointId'] === 'string') {
        model.choose(args['endpointId']);
      }
    }
  });

  commands.addCommand(CommandIDs.toggleInlineCompletion, {
    label: trans.__('Inline Completion by the Assistant'),
    caption: trans.__(
      'Show the model’s completions as ghost text (Tab accepts)'
    ),
    describedBy: NO_ARGS,
    isToggled: () => model.settings.inlineCompletion,
    execute: () => options.setInline(!model.settings.inlineCompletion)
  });

  app.contextMenu.addItem({
    command: CommandIDs.explainError,
    selector: ERROR_OUTPUT_SELECTOR,
    rank: 0
  });
  if (options.palette) {
    const category = trans.__('HPC Bridge');
    for (const command of [
      CommandIDs.openChat,
      CommandIDs.toggleInlineCompletion
    ]) {
      options.palette.addItem({ command, category });
    }
  }
  model.changed.connect(() => {
    commands.notifyCommandChanged(CommandIDs.openChat);
    commands.notifyCommandChanged(CommandIDs.explainError);
  });
  return new Menu({ commands });
}

/** Fills the status item's menu with the endpoints as they are listed now. */
export function fillAssistantMenu(
  menu: Menu,
  model: AssistantModel,
  trans: TranslationBundle
): void {
  menu.clearItems();
  menu.title.label = trans.__('Assistant');
  for (const endpoint of model.endpoints) {
    const uses = [
      endpoint.completion ? trans.__('completion') : null,
      endpoint.chat ? trans.__('chat') : null
    ].filter(Boolean);
    const source = endpoint.course
      ? trans.__('course %1', endpoint.course)
      : endpoint.source === 'own'
        ? trans.__('own')
        : trans.__('shared');
    menu.addItem({
      command: CommandIDs.chooseAssistantEndpoint,
      args: {
        endpointId: endpoint.endpointId,
        label: `${endpoint.name} (${endpoint.model}; ${source}; ${uses.join(', ') || trans.__('not for the editor')})`
      }
    });
  }
  menu.addItem({ type: 'separator' });
  menu.addItem({ command: CommandIDs.toggleInlineCompletion });
  menu.addItem({ command: CommandIDs.openChat });
}
