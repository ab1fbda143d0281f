import type { ClusterKernel } from '@hpc-bridge/server/contract';
import { TextItem } from '@jupyterlab/statusbar';
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { ModelWidget } from '../../ui/ModelWidget';
import { useTranslator } from '../../ui/translator';
import type { CurrentKernelModel } from '../CurrentKernelModel';
import { KernelStatus } from '../status';

/**
 * The status bar item of the current notebook's cluster kernel: where it
 * runs and the walltime left, or its place in the queue. Empty for local
 * kernels (the plugin hides the item then).
 */
export class KernelStatusItem extends ModelWidget<CurrentKernelModel> {
  constructor(options: KernelStatusItem.IOptions) {
    super({
      model: options.model,
      trans: options.trans,
      classNames: ['jp-hpc-KernelStatus'],
      render: model => (
        <KernelStatusItem.View
          kernel={model.kernel}
          now={model.now}
          onClick={options.onClick}
        />
      )
    });
  }
}

export namespace KernelStatusItem {
  export interface IOptions {
    model: CurrentKernelModel;
    trans: TranslationBundle;
    /** Opens the kernel's details. */
    onClick: () => void;
  }

  export interface IViewProps {
    kernel: ClusterKernel | null;
    now: number;
    onClick: () => void;
  }

  /** The item's text, as a button that opens the details. */
  export function View(props: IViewProps): JSX.Element | null {
    const trans = useTranslator();
    const { kernel, onClick } = props;
    if (kernel === null) {
      return null;
    }
    const text = KernelStatus.text(kernel, props.now, trans);
    return (
      <span
        className={`jp-hpc-KernelStatus-content jp-mod-${kernel.state}`}
        title={trans.__('%1 — click for details', text)}
        role="button"
        tabIndex={0}
        aria-label={trans.__('Cluster kernel: %1', text)}
        onClick={onClick}
        onKeyDown={event => {
          if (event.key === 'Enter' || event.key === ' ') {
            onClick();
          }
        }}
      >
        <TextItem className="jp-hpc-KernelStatus-text" source={text} />
      </span>
    );
  }
}
