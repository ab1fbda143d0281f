import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import type { ISignal } from '@lumino/signaling';
import React from 'react';
import { TranslatorContext } from './translator';

/**
 * A widget that shows one model: `render(model)` again on every change of the model,
 * with the translator in context (status bar items, side panels).
 */
export class ModelWidget<
  M extends { readonly changed: ISignal<unknown, void> }
> extends ReactWidget {
  constructor(options: ModelWidget.IOptions<M>) {
    super();
    this.model = options.model;
    this._trans = options.trans;
    this._render = options.render;
    for (const name of options.classNames) {
      this.addClass(name);
    }
  }

  readonly model: M;

  render(): JSX.Element {
    return (
      <TranslatorContext.Provider value={this._trans}>
        <UseSignal signal={this.model.changed}>
          {() => this._render(this.model)}
        </UseSignal>
      </TranslatorContext.Provider>
    );
  }

  private readonly _trans: TranslationBundle;
  private readonly _render: (model: M) => JSX.Element | null;
}

export namespace ModelWidget {
  export interface IOptions<M> {
    model: M;
    trans: TranslationBundle;
    classNames: string[];
    render: (model: M) => JSX.Element | null;
  }
}
