import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';
import React from 'react';
import { ErrorBoundary } from './ErrorBoundary';
import { Section, SectionFoldsContext, SectionPageContext } from './Section';
import { SectionFolds } from './SectionFolds';
import { TranslatorContext } from './translator';

/**
 * A section of the panel as a widget: re-rendered on every change of its
 * model, with the translator, an error boundary and the panel's fold state.
 */
export class SectionWidget<
  M extends { readonly changed: ISignal<unknown, void> }
> extends ReactWidget {
  constructor(options: SectionWidget.IOptions<M>) {
    super();
    this._sectionOptions = options;
    this.addClass(options.className);
    this.title.label = options.label;
  }

  /** Set by the panel when the section is added to it. */
  get folds(): SectionFolds {
    return this._folds;
  }
  set folds(folds: SectionFolds) {
    this._folds = folds;
    this.update();
  }

  render(): JSX.Element {
    const { model, trans, render, openPage } = this._sectionOptions;
    return (
      <TranslatorContext.Provider value={trans}>
        <SectionFoldsContext.Provider value={this._folds}>
          <SectionPageContext.Provider value={openPage ?? null}>
            <ErrorBoundary>
              <UseSignal signal={model.changed}>
                {() => render(model)}
              </UseSignal>
            </ErrorBoundary>
          </SectionPageContext.Provider>
        </SectionFoldsContext.Provider>
      </TranslatorContext.Provider>
    );
  }

  private readonly _sectionOptions: SectionWidget.IOptions<M>;
  private _folds = new SectionFolds();
}

export namespace SectionWidget {
  export interface IOptions<M> {
    model: M;
    trans: TranslationBundle;
    className: string;
    /** The section's title (already translated). */
    label: string;
    render: (model: M) => JSX.Element | null;
    /** A button in the section's header that opens its view as a main-area page. */
    openPage?: Section.IPageButton;
  }
}

/**
 * A section whose model polls only while the section is on screen: the
 * widget tells the model when it is shown and hidden.
 */
export class VisibleSectionWidget<
  M extends { readonly changed: ISignal<unknown, void>; visible: boolean }
> extends SectionWidget<M> {
  constructor(options: SectionWidget.IOptions<M>) {
    super(options);
    this._model = options.model;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.visible = true;
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._model.visible = this.isVisible;
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.visible = false;
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.visible = false;
    super.onBeforeDetach(msg);
  }

  private readonly _model: M;
}
