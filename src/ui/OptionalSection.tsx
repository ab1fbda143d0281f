import type { TranslationBundle } from '@jupyterlab/translation';
import {
  launchIcon,
  ReactWidget,
  ToolbarButtonComponent,
  UseSignal
} from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';
import React from 'react';
import { ErrorBoundary } from './ErrorBoundary';
import { TranslatorContext } from './translator';

/** What an optional section needs of its model. */
export interface IOptionalSectionModel {
  readonly changed: ISignal<unknown, void>;
  /** Set by the widget: the model loads its details only while the section is on screen. */
  visible: boolean;
}

/**
 * A panel section that only some users have (the Admin section for admins, the Course
 * section for instructors and students): hidden until `isShown` says so, re-rendered on
 * every change of its model, and telling the model when it is on screen.
 */
export class OptionalSectionWidget<
  M extends IOptionalSectionModel
> extends ReactWidget {
  constructor(private readonly _options: OptionalSectionWidget.IOptions<M>) {
    super();
    this.addClass(_options.className);
    this.title.label = _options.label;
    this.hide();
    _options.model.changed.connect(this._syncHidden, this);
  }

  render(): JSX.Element {
    const { model, trans, render, openPage } = this._options;
    return (
      <TranslatorContext.Provider value={trans}>
        <ErrorBoundary>
          {openPage && (
            <ToolbarButtonComponent
              className="jp-hpc-Section-openPage"
              icon={launchIcon}
              tooltip={openPage.label}
              aria-label={openPage.label}
              onClick={openPage.open}
            />
          )}
          <UseSignal signal={model.changed}>{() => render(model)}</UseSignal>
        </ErrorBoundary>
      </TranslatorContext.Provider>
    );
  }

  private _syncHidden(): void {
    this.setHidden(!this._options.isShown(this._options.model));
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._options.model.visible = true;
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._options.model.visible = false;
  }
}

export namespace OptionalSectionWidget {
  export interface IOptions<M> {
    model: M;
    trans: TranslationBundle;
    className: string;
    /** The section's title (already translated). */
    label: string;
    isShown: (model: M) => boolean;
    render: (model: M) => JSX.Element | null;
    /** A button that opens the section's view as a main-area page. */
    openPage?: { label: string; open: () => void };
  }
}

/** A date and time in the user's locale; `–` for none. */
export function when(iso: string | null): string {
  return iso === null ? '–' : new Date(iso).toLocaleString();
}

/** Saves a blob as a download. */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
