import type { ClusterKernel } from '@hpc-bridge/server/contract';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';
import { TranslatorContext } from '../../ui/translator';
import { KernelsModel } from '../KernelsModel';
import { KernelDetails } from './KernelDetails';

/**
 * The details of a cluster kernel in a dialog with Close and, while it lives,
 * Cancel (pending, starting) or Shut down (running); resolves `true` when the
 * user chose to stop it.
 */
export async function showKernelDialog(
  kernel: ClusterKernel,
  now: number,
  trans: TranslationBundle
): Promise<boolean> {
  const live = !KernelsModel.isTerminal(kernel.state);
  const stop =
    kernel.state === 'running' ? trans.__('Shut down') : trans.__('Cancel');
  const body = ReactWidget.create(
    <TranslatorContext.Provider value={trans}>
      <KernelDetails kernel={kernel} now={now} />
    </TranslatorContext.Provider>
  );
  const result = await showDialog({
    title: trans.__('Cluster kernel'),
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Close') }),
      ...(live
        ? [
            Dialog.warnButton({
              label: stop,
              caption: trans.__('Shut the kernel down: its job is cancelled')
            })
          ]
        : [])
    ]
  });
  return live && result.button.accept;
}
