import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { IBridgeClient } from '../tokens';
import { messageOf } from './format';

/**
 * What the plugins of the panel's polled sections (Endpoints, Pipelines) wire
 * the same way: their model's start and reloads, error dialogs, the palette.
 */
export namespace SectionWiring {
  /**
   * Starts the section's model once the application is restored (no network
   * inside `activate`), and loads it again when the bridge's URL changes.
   */
  export function start(
    app: JupyterFrontEnd,
    client: IBridgeClient,
    model: { start(): Promise<void>; refresh(): Promise<void> }
  ): void {
    void app.restored.then(() => model.start());
    client.baseUrlChanged.connect(() => void model.refresh());
  }

  /** A handler that shows an error in a dialog titled `title`. */
  export function report(
    title: string,
    describe: (error: unknown) => string = messageOf
  ): (error: unknown) => void {
    return error => {
      void import('@jupyterlab/apputils').then(({ showErrorMessage }) =>
        showErrorMessage(title, describe(error))
      );
    };
  }

  /** Adds the commands to the palette, in the HPC Bridge category. */
  export function addToPalette(
    palette: ICommandPalette | null,
    trans: TranslationBundle,
    commands: readonly string[]
  ): void {
    if (!palette) {
      return;
    }
    const category = trans.__('HPC Bridge');
    for (const command of commands) {
      palette.addItem({ command, category });
    }
  }
}
