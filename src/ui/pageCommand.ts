import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { WidgetTracker } from '@jupyterlab/apputils';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import type { CommandRegistry } from '@lumino/commands';
import type { Widget } from '@lumino/widgets';

/**
 * Adds a command that opens a main-area page, or shows it if it is open
 * already (one page per widget id), and restores the open pages with the
 * workspace.
 */
export function addPageCommand<W extends Widget>(
  app: JupyterFrontEnd,
  options: addPageCommand.IOptions<W>
): WidgetTracker<W> {
  const tracker = new WidgetTracker<W>({ namespace: options.namespace });
  app.commands.addCommand(options.command, {
    ...options.commandOptions,
    describedBy: options.commandOptions.describedBy,
    execute: args => {
      const id = options.id(args);
      if (id === null) {
        return;
      }
      let page = tracker.find(widget => widget.id === id);
      if (!page) {
        page = options.create(args);
        void tracker.add(page);
        app.shell.add(page, 'main');
      }
      app.shell.activateById(page.id);
      return page;
    }
  });
  void options.restorer?.restore(tracker, {
    command: options.command,
    args: options.args,
    name: widget => widget.id
  });
  return tracker;
}

export namespace addPageCommand {
  export interface IOptions<W> {
    command: string;
    /** The tracker's namespace in the workspace (one per kind of page). */
    namespace: string;
    restorer: ILayoutRestorer | null;
    /** Label, caption, icon, `describedBy`, … of the command. */
    commandOptions: Omit<CommandRegistry.ICommandOptions, 'execute'>;
    /** The page's widget id for the command's arguments; `null`: nothing to open. */
    id: (args: ReadonlyPartialJSONObject) => string | null;
    create: (args: ReadonlyPartialJSONObject) => W;
    /** The arguments that open the page again after a reload. */
    args: (page: W) => ReadonlyPartialJSONObject;
  }
}
