import type { TranslationBundle } from '@jupyterlab/translation';
import {
  ReactWidget,
  refreshIcon,
  SidePanel,
  ToolbarButton,
  UseSignal
} from '@jupyterlab/ui-components';
import { Panel, Widget } from '@lumino/widgets';
import React from 'react';
import { hpcBridgeIcon } from '../icons';
import type { ClusterModel } from './ClusterModel';
import { ClusterSection } from './ClusterSection';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { TranslatorContext } from '../ui/translator';

/**
 * The **HPC Bridge** side panel: a header, a toolbar and one widget per
 * section (the first one is **Cluster**).
 */
export class BridgePanel extends SidePanel {
  constructor(options: BridgePanel.IOptions) {
    super({ content: new Panel() });
    const { trans } = options;
    this.id = BridgePanel.ID;
    this.addClass('jp-hpc-BridgePanel');
    this.title.icon = hpcBridgeIcon;
    this.title.caption = trans.__('HPC Bridge');
    this.node.setAttribute('aria-label', trans.__('HPC Bridge'));

    const heading = new Widget({ node: document.createElement('h2') });
    heading.node.textContent = trans.__('HPC Bridge');
    heading.addClass('jp-hpc-BridgePanel-title');
    this.header.addWidget(heading);

    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        onClick: () => void options.clusterModel.refresh(),
        tooltip: trans.__('Refresh the cluster status')
      })
    );

    this.addSection(
      new BridgePanel.ClusterSectionWidget({
        model: options.clusterModel,
        trans
      }),
      { rank: 100 }
    );
  }

  /** Add a section; sections are ordered by rank (Cluster: 100). */
  addSection(widget: Widget, options: { rank?: number } = {}): void {
    const rank = options.rank ?? 500;
    const index = this._ranks.findIndex(other => other > rank);
    const at = index < 0 ? this._ranks.length : index;
    this._ranks.splice(at, 0, rank);
    this.insertWidget(at, widget);
  }

  private readonly _ranks: number[] = [];
}

export namespace BridgePanel {
  /** The id of the panel (and of its tab in the left area). */
  export const ID = 'jp-hpc-bridge-panel';

  export interface IOptions {
    clusterModel: ClusterModel;
    trans: TranslationBundle;
  }

  /**
   * The **Cluster** section, re-rendered when the model changes.
   */
  export class ClusterSectionWidget extends ReactWidget {
    constructor(options: { model: ClusterModel; trans: TranslationBundle }) {
      super();
      this._model = options.model;
      this._trans = options.trans;
      this.addClass('jp-hpc-ClusterSectionWidget');
      this.title.label = options.trans.__('Cluster');
    }

    render(): JSX.Element {
      const model = this._model;
      return (
        <TranslatorContext.Provider value={this._trans}>
          <ErrorBoundary>
            <UseSignal signal={model.changed}>
              {() => (
                <ClusterSection
                  clusters={model.clusters}
                  error={model.error}
                  loading={model.loading}
                  updated={model.updated}
                  onRetry={() => model.refresh()}
                />
              )}
            </UseSignal>
          </ErrorBoundary>
        </TranslatorContext.Provider>
      );
    }

    private readonly _model: ClusterModel;
    private readonly _trans: TranslationBundle;
  }
}
