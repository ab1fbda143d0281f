import { MainAreaWidget } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  type LabIcon,
  ReactWidget,
  UseSignal
} from '@jupyterlab/ui-components';
import type { IDisposable } from '@lumino/disposable';
import type { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';
import React from 'react';
import { ErrorBoundary } from './ErrorBoundary';
import { TranslatorContext } from './translator';

/**
 * A main-area page of the bridge (the Jobs page, a job, Admin, Course): a
 * React view re-rendered on every change of its model, which the page owns and
 * disposes when it closes.
 */
export class ModelPage<M extends ModelPage.IModel> extends MainAreaWidget<
  ModelPage.Content<M>
> {
  constructor(options: ModelPage.IOptions<M>) {
    super({ content: new ModelPage.Content(options) });
    this.id = options.id;
    this.title.label = options.label;
    this.title.caption = options.caption ?? options.label;
    this.title.icon = options.icon;
    this.title.closable = true;
    this.addClass('jp-hpc-Page');
    this.addClass(options.className);
  }

  get model(): M {
    return this.content.model;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    const model = this.model;
    super.dispose();
    model.dispose();
  }
}

export namespace ModelPage {
  /** What a page needs of its model. */
  export interface IModel extends IDisposable {
    readonly changed: ISignal<unknown, void>;
    /** Set by the page when it has one: the model loads while the page is on screen. */
    visible?: boolean;
  }

  export interface IOptions<M> {
    model: M;
    trans: TranslationBundle;
    /** The widget id (one page per id). */
    id: string;
    className: string;
    /** The tab's title (already translated). */
    label: string;
    caption?: string;
    icon: LabIcon;
    render: (model: M) => JSX.Element | null;
  }

  export class Content<M extends IModel> extends ReactWidget {
    constructor(private readonly _options: IOptions<M>) {
      super();
      this.addClass('jp-hpc-Page-content');
    }

    get model(): M {
      return this._options.model;
    }

    render(): JSX.Element {
      const { model, trans, render } = this._options;
      return (
        <TranslatorContext.Provider value={trans}>
          <ErrorBoundary>
            <UseSignal signal={model.changed}>{() => render(model)}</UseSignal>
          </ErrorBoundary>
        </TranslatorContext.Provider>
      );
    }

    protected onAfterShow(msg: Message): void {
      super.onAfterShow(msg);
      this._setVisible(true);
    }

    protected onAfterHide(msg: Message): void {
      super.onAfterHide(msg);
      this._setVisible(false);
    }

    private _setVisible(visible: boolean): void {
      if ('visible' in this._options.model) {
        this._options.model.visible = visible;
      }
    }
  }
}
