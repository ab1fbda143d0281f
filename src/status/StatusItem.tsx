import type { Version, Whoami } from '@hpc-bridge/server/contract';
import { TextItem } from '@jupyterlab/statusbar';
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import type { ConnectionModel } from './ConnectionModel';
import { ModelWidget } from '../ui/ModelWidget';
import { useTranslator } from '../ui/translator';

/**
 * The status bar item: who the bridge sees, its version, and a warning when
 * it does not match this extension.
 */
export class StatusItem extends ModelWidget<ConnectionModel> {
  constructor(options: StatusItem.IOptions) {
    const onClick = options.onClick ?? null;
    super({
      model: options.model,
      trans: options.trans,
      classNames: ['jp-hpc-StatusItem'],
      render: model => (
        <StatusItem.View
          user={model.user}
          version={model.version}
          error={model.error}
          loading={model.loading}
          mismatch={model.mismatch}
          extensionVersion={model.extensionVersion}
          onClick={onClick}
        />
      )
    });
    this.model.changed.connect(this._updateState, this);
    this._updateState();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._updateState, this);
    super.dispose();
  }

  /** Mirror the state on the widget node so that it can be styled. */
  private _updateState(): void {
    const state = StatusItem.state(this.model);
    for (const name of ['loading', 'connected', 'disconnected', 'warning']) {
      this.toggleClass(`jp-mod-${name}`, name === state);
    }
  }
}

export namespace StatusItem {
  export interface IOptions {
    model: ConnectionModel;
    trans: TranslationBundle;
    /** Called on click, e.g. to open the side panel. */
    onClick?: () => void;
  }

  export type State = 'loading' | 'connected' | 'disconnected' | 'warning';

  export function state(model: {
    loading: boolean;
    error: Error | null;
    mismatch: ConnectionModel.IMismatch | null;
  }): State {
    if (model.error !== null) {
      return 'disconnected';
    }
    if (model.loading) {
      return 'loading';
    }
    return model.mismatch ? 'warning' : 'connected';
  }

  export interface IViewProps {
    user: Whoami | null;
    version: Version | null;
    error: Error | null;
    loading: boolean;
    mismatch: ConnectionModel.IMismatch | null;
    extensionVersion: string;
    onClick: (() => void) | null;
  }

  /**
   * The text and tooltip of the status bar item.
   */
  export function View(props: IViewProps): JSX.Element {
    const trans = useTranslator();
    const current = state(props);
    let text: string;
    let title: string;
    let warning: string | null = null;
    if (current === 'disconnected') {
      text = trans.__('HPC Bridge: disconnected');
      title = props.error?.message ?? '';
    } else if (current === 'loading' || props.user === null) {
      text = trans.__('HPC Bridge: connecting…');
      title = trans.__('Connecting to the HPC Bridge…');
    } else {
      text = trans.__('HPC Bridge: %1', props.user.name);
      title = trans.__(
        'Connected to HPC Bridge v%1 as %2',
        props.version?.version ?? '?',
        props.user.name
      );
      if (props.mismatch) {
        warning =
          props.mismatch.kind === 'contract'
            ? trans.__('incompatible bridge')
            : trans.__('version mismatch');
        title =
          props.mismatch.kind === 'contract'
            ? trans.__(
                'The HPC Bridge speaks contract %1, this extension contract %2: some features will fail. Update the bridge or the extension so that both match.',
                props.mismatch.bridge,
                props.mismatch.extension
              )
            : trans.__(
                'The HPC Bridge is version %1, this extension version %2. Update one of them so that both match.',
                props.mismatch.bridge,
                props.mismatch.extension
              );
      }
    }
    const { onClick } = props;
    return (
      <span
        className={`jp-hpc-StatusItem-content jp-mod-${current}`}
        title={title}
        role={onClick ? 'button' : undefined}
        tabIndex={onClick ? 0 : undefined}
        onClick={onClick ?? undefined}
        onKeyDown={
          onClick
            ? event => {
                if (event.key === 'Enter' || event.key === ' ') {
                  onClick();
                }
              }
            : undefined
        }
      >
        <TextItem className="jp-hpc-StatusItem-text" source={text} />
        {warning && (
          <TextItem
            className="jp-hpc-StatusItem-warning"
            source={`⚠ ${warning}`}
          />
        )}
      </span>
    );
  }
}
