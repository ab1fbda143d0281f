import {
  ILabShell,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { Widget } from '@lumino/widgets';
import { IBridgeClient } from '../tokens';
import { watchSettings } from '../ui/settings';
import { TRANSLATION_DOMAIN } from '../ui/translator';
import { KernelsApi } from './api';
import { CurrentKernelModel } from './CurrentKernelModel';
// The notices follow kernels from the start: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { KernelNotices } from './KernelNotices';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { KernelsModel } from './KernelsModel';
import { Sessions } from './sessions';
// The status bar item is registered at start (hidden until a cluster kernel shows).
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { KernelStatusItem } from './widgets/KernelStatusItem';

/**
 * Cluster kernels in the notebook: a status bar item for the current notebook's
 * or console's cluster kernel (node, job, walltime left, or its place in the
 * queue) with its details and a Shut down button, and notices while it waits,
 * before its walltime ends and when its job ends.
 */
export const kernelsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:kernels',
  description:
    'Shows the cluster kernel of the current notebook in the status bar (node, job, walltime left, queue position) and notifies while it waits for the cluster, before its walltime ends and when its job ends.',
  autoStart: true,
  requires: [IBridgeClient],
  optional: [IStatusBar, ILabShell, ITranslator, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    statusBar: IStatusBar | null,
    labShell: ILabShell | null,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const model = new KernelsModel({ api: new KernelsApi(client) });
    const mainWidgets = (): Iterable<Widget> => app.shell.widgets('main');
    const shutdown = (jupyterKernelId: string): Promise<void> =>
      Sessions.shutdown(mainWidgets(), jupyterKernelId);

    const notices = new KernelNotices({
      model,
      trans,
      isOpen: id => Sessions.withKernel(mainWidgets(), id).length > 0,
      shutdown
    });
    watchSettings(settingRegistry, kernelsPlugin.id, settings => {
      notices.warnMinutes = settings.get('walltimeWarningMinutes')
        .composite as number;
    });

    if (!statusBar || !labShell) {
      return;
    }
    const current = new CurrentKernelModel(model);
    let watched: Sessions.ISessionWidget | null = null;
    const update = (): void => {
      current.jupyterKernelId = Sessions.kernelId(watched);
    };
    const follow = (): void => {
      watched?.sessionContext.kernelChanged.disconnect(update);
      const widget = labShell.currentWidget;
      watched = Sessions.isSessionWidget(widget) ? widget : null;
      watched?.sessionContext.kernelChanged.connect(update);
      update();
    };
    labShell.currentChanged.connect(follow);
    follow();

    const item = new KernelStatusItem({
      model: current,
      trans,
      onClick: () => {
        const kernel = current.kernel;
        if (kernel === null) {
          return;
        }
        void import('./widgets/KernelDialog')
          .then(({ showKernelDialog }) =>
            showKernelDialog(kernel, current.now, trans)
          )
          .then(stop => (stop ? shutdown(kernel.jupyterKernelId) : undefined));
      }
    });
    statusBar.registerStatusItem(kernelsPlugin.id, {
      item,
      align: 'left',
      rank: 5,
      isActive: () => current.kernel !== null,
      activeStateChanged: current.changed
    });
  }
};
