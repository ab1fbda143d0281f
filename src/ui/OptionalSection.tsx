import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import type { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';
import { SectionWidget } from './SectionWidget';

/** What an optional section needs of its model. */
export interface IOptionalSectionModel extends IDisposable {
  readonly changed: ISignal<unknown, void>;
  /** Set by the widget: the model loads its details only while the section is on screen. */
  visible: boolean;
}

/**
 * A panel section that only some users have (the Admin section for admins, the Course
 * section for instructors and students): hidden until `isShown` says so, re-rendered on
 * every change of its model, and telling the model when it is on screen. The widget owns
 * its model and disposes it with itself.
 */
export class OptionalSectionWidget<
  M extends IOptionalSectionModel
> extends SectionWidget<M> {
  constructor(private readonly _options: OptionalSectionWidget.IOptions<M>) {
    super(_options);
    this.hide();
    _options.model.changed.connect(this._syncHidden, this);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    super.dispose();
    this._options.model.dispose();
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
  export interface IOptions<M> extends SectionWidget.IOptions<M> {
    trans: TranslationBundle;
    isShown: (model: M) => boolean;
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
