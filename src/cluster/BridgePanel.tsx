import type { TranslationBundle } from '@jupyterlab/translation';
import { SidePanel } from '@jupyterlab/ui-components';
import { Panel, Widget } from '@lumino/widgets';
import React from 'react';
import { hpcBridgeIcon } from '../icons';
import type { ClusterModel } from './ClusterModel';
import { ClusterSection } from './ClusterSection';
import { SectionFolds } from '../ui/SectionFolds';
import { SectionWidget } from '../ui/SectionWidget';

/**
 * The **HPC Bridge** side panel: a header and one widget per section (the
 * first one is **Cluster**), each folding on its own.
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

    this.folds = options.folds ?? new SectionFolds();
    this.toolbar.hide();

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
    if (widget instanceof SectionWidget) {
      widget.folds = this.folds;
    }
    const rank = options.rank ?? 500;
    const index = this._ranks.findIndex(other => other > rank);
    const at = index < 0 ? this._ranks.length : index;
    this._ranks.splice(at, 0, rank);
    this.insertWidget(at, widget);
  }

  /** Which sections are folded. */
  readonly folds: SectionFolds;

  private readonly _ranks: number[] = [];
}

export namespace BridgePanel {
  /** The id of the panel (and of its tab in the left area). */
  export const ID = 'jp-hpc-bridge-panel';

  export interface IOptions {
    clusterModel: ClusterModel;
    trans: TranslationBundle;
    /** Which sections are folded (remembered per user when given a state database). */
    folds?: SectionFolds;
  }

  /**
   * The **Cluster** section, re-rendered when the model changes.
   */
  export class ClusterSectionWidget extends SectionWidget<ClusterModel> {
    constructor(options: { model: ClusterModel; trans: TranslationBundle }) {
      super({
        ...options,
        className: 'jp-hpc-ClusterSectionWidget',
        label: options.trans.__('Cluster'),
        render: model => (
          <ClusterSection
            clusters={model.clusters}
            error={model.error}
            loading={model.loading}
            updated={model.updated}
            onRetry={() => model.refresh()}
          />
        )
      });
    }
  }
}
