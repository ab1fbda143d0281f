import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ICompletionProviderManager } from '@jupyterlab/completer';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { IBridgeClient } from '../tokens';
import { watchSettings } from '../ui/settings';
import { TRANSLATION_DOMAIN } from '../ui/translator';
// The model, commands and provider are set up at start, before the first keystroke.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AssistantApi } from './api';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import {
  AssistantModel,
  DEFAULT_SETTINGS,
  type IAssistantSettings
} from './AssistantModel';
import type { ChatModel } from './ChatModel';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { addAssistantCommands, fillAssistantMenu } from './commands';
import { InlineCompletionModel } from './InlineCompletionModel';
import { AssistantInlineProvider } from './InlineProvider';
// The status bar item is registered at start (hidden without an endpoint).
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AssistantStatusItem } from './widgets/AssistantStatusItem';

/**
 * The course's (or the user's own) model in the editor: inline completion as
 * ghost text, a chat side panel, "Explain this error" on error outputs, and a
 * status bar item with the endpoint and the tokens left.
 */
export const assistantPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:assistant',
  description:
    'Inline completion and a chat side panel on a model endpoint of the HPC Bridge (a course endpoint or your own), with the tokens left in the status bar.',
  autoStart: true,
  requires: [IBridgeClient],
  optional: [
    ICompletionProviderManager,
    IStatusBar,
    ITranslator,
    ISettingRegistry,
    ICommandPalette,
    INotebookTracker,
    IRenderMimeRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    completion: ICompletionProviderManager | null,
    statusBar: IStatusBar | null,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    rendermime: IRenderMimeRegistry | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    let settings: ISettingRegistry.ISettings | null = null;
    const save = (key: keyof IAssistantSettings, value: string | boolean) => {
      void settings?.set(key, value).catch(reason => {
        console.error(`${assistantPlugin.id}: cannot save ${key}.`, reason);
      });
    };
    const model = new AssistantModel({
      api: new AssistantApi(client),
      saveChoice: endpointId => save('endpointId', endpointId),
      trans
    });
    watchSettings(settingRegistry, assistantPlugin.id, loaded => {
      settings = loaded;
      model.settings = readSettings(loaded);
    });
    void model.refresh();
    client.baseUrlChanged.connect(() => void model.refresh());

    const inline = new InlineCompletionModel({ assistant: model });
    // Once per new failure, not on every keystroke; the status item keeps showing it.
    inline.failed.connect((_, message) => {
      Notification.warning(message, { autoClose: 8000 });
    });
    completion?.registerInlineProvider(
      new AssistantInlineProvider({
        model: inline,
        contextCells: () => model.settings.contextCells,
        trans
      })
    );

    let chat: Promise<ChatModel> | null = null;
    const openChat = (): Promise<ChatModel> => {
      chat ??= makeChat(app, model, trans, notebooks, rendermime);
      return chat.then(chatModel => {
        app.shell.activateById('hpcb-assistant-chat');
        return chatModel;
      });
    };
    const menu = addAssistantCommands({
      app,
      model,
      trans,
      openChat,
      setInline: on => save('inlineCompletion', on),
      notebooks,
      palette
    });

    if (!statusBar) {
      return;
    }
    const item = new AssistantStatusItem({
      model,
      trans,
      onClick: event => {
        fillAssistantMenu(menu, model, trans);
        const rect = (
          event.currentTarget as HTMLElement
        ).getBoundingClientRect();
        menu.open(rect.left, rect.top, { forceY: false });
      }
    });
    statusBar.registerStatusItem(assistantPlugin.id, {
      item,
      align: 'right',
      rank: 50,
      isActive: () => model.current !== null,
      activeStateChanged: model.changed
    });
  }
};

/** The chat panel in the right side area, made on first use. */
async function makeChat(
  app: JupyterFrontEnd,
  model: AssistantModel,
  trans: ReturnType<ITranslator['load']>,
  notebooks: INotebookTracker | null,
  rendermime: IRenderMimeRegistry | null
): Promise<ChatModel> {
  const [{ ChatModel }, { ChatPanel }, { AssistantNotebook }] =
    await Promise.all([
      import('./ChatModel'),
      import('./widgets/ChatPanel'),
      import('./notebook')
    ]);
  const chat = new ChatModel({ assistant: model });
  const panel = new ChatPanel({
    model: chat,
    trans,
    rendermime,
    selectedCells: () =>
      notebooks ? AssistantNotebook.selectedCellsContext(notebooks) : null,
    insertCell: text =>
      notebooks ? AssistantNotebook.insertBelow(notebooks, text) : false
  });
  panel.disposed.connect(() => chat.dispose());
  app.shell.add(panel, 'right', { rank: 700 });
  void chat.refresh();
  return chat;
}

/** The plugin's settings with the defaults for what is missing. */
function readSettings(
  settings: ISettingRegistry.ISettings
): IAssistantSettings {
  const value = <K extends keyof IAssistantSettings>(
    key: K
  ): IAssistantSettings[K] =>
    (settings.get(key).composite as IAssistantSettings[K] | undefined) ??
    DEFAULT_SETTINGS[key];
  return {
    endpointId: value('endpointId'),
    inlineCompletion: value('inlineCompletion'),
    debounceMs: value('debounceMs'),
    maxTokens: value('maxTokens'),
    contextCells: value('contextCells')
  };
}
