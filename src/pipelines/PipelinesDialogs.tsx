import type { Trigger, TriggerDryRun } from '@hpc-bridge/server/contract';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import { Alert } from '../ui/Alert';
import { askFormDialog } from '../ui/FormDialog';
import { TranslatorContext } from '../ui/translator';
import type { RunHistoryModel } from './RunHistoryModel';
import { TriggerCreateForm } from './TriggerCreateForm';
import type { TriggerForm } from './triggerForm';
import { eventLabel, type IRunActions, TriggerRunList } from './TriggerRuns';

/**
 * The dialogs of the Pipelines section: the new trigger form, a dry run's
 * answer and a trigger's run history.
 */
export namespace PipelinesDialogs {
  /**
   * Chooses a path for a field: in the Jupyter files (`tier` '') or in a
   * tier; the path, or `null` when none was chosen.
   */
  export type Browse = (
    what: 'notebook' | 'folder',
    tier: string,
    current: string
  ) => Promise<string | null>;

  /**
   * Asks for a new trigger, starting from `form`; `errors` (the contract's or
   * the bridge's, by field) are shown next to their fields.
   */
  export function askCreate(
    trans: TranslationBundle,
    context: TriggerForm.IContext,
    form: TriggerForm.IForm,
    errors: TriggerForm.FieldErrors,
    browse: Browse
  ): Promise<TriggerForm.IForm | null> {
    return askFormDialog({
      trans,
      title: trans.__('Create a trigger'),
      okLabel: trans.__('Create'),
      className: 'jp-hpc-TriggerDialog',
      value: form,
      render: (value, set, pick) => (
        <TriggerCreateForm
          context={context}
          value={value}
          errors={errors}
          onChange={set}
          onBrowse={(field, tier) =>
            pick(async current => {
              const path = await browse(
                field === 'notebookPath' ? 'notebook' : 'folder',
                tier,
                current[field]
              );
              return path === null ? null : { ...current, [field]: path };
            })
          }
        />
      )
    });
  }

  /** What would fire now, and whether each event would run, wait or was seen. */
  export async function showDryRun(
    trans: TranslationBundle,
    trigger: Trigger,
    result: TriggerDryRun
  ): Promise<void> {
    const outcome = {
      run: trans.__('would run now'),
      wait: trans.__('would wait'),
      seen: trans.__('ran already')
    };
    await showDialog({
      title: trans.__('Dry run of %1', trigger.name),
      body: ReactWidget.create(
        <div className="jp-hpc-DryRun" data-testid="hpc-dry-run">
          {result.events.length === 0 ? (
            <p>{trans.__('Nothing would fire now.')}</p>
          ) : (
            <ul className="jp-hpc-DryRun-list">
              {result.events.map(event => (
                <li
                  key={event.key}
                  className={`jp-hpc-DryRun-event jp-mod-${event.outcome}`}
                >
                  <span className="jp-hpc-DryRun-what">
                    {eventLabel(event.event, trans)}
                  </span>{' '}
                  <strong>{outcome[event.outcome]}</strong>
                  {event.reason && (
                    <span className="jp-hpc-DryRun-reason">
                      {' '}
                      {trans.__('(%1)', event.reason)}
                    </span>
                  )}
                </li>
              ))}
            </ul>
          )}
          {result.truncated && (
            <p className="jp-hpc-Form-note">
              {trans.__(
                'More events would follow; the scan stopped at its bound.'
              )}
            </p>
          )}
          {trigger.state === 'paused' && (
            <p className="jp-hpc-Form-note">
              {trans.__(
                'The trigger is paused: its events wait until it is resumed.'
              )}
            </p>
          )}
        </div>
      ),
      buttons: [Dialog.okButton({ label: trans.__('Close') })]
    });
  }

  /**
   * The run history of a trigger, paged back by "Older runs". Following a
   * link closes the dialog first (JupyterLab shows one dialog at a time).
   */
  export async function showRunHistory(
    trans: TranslationBundle,
    trigger: Trigger,
    model: RunHistoryModel,
    actions: IRunActions
  ): Promise<void> {
    const dialog = new Dialog({
      title: trans.__('Runs of %1', trigger.name),
      body: new HistoryBody(trans, model, actions, () => dialog.reject()),
      buttons: [Dialog.okButton({ label: trans.__('Close') })]
    });
    dialog.addClass('jp-hpc-RunHistoryDialog');
    void model.reload();
    await dialog.launch();
  }

  class HistoryBody extends ReactWidget {
    constructor(
      private readonly _trans: TranslationBundle,
      private readonly _model: RunHistoryModel,
      private readonly _actions: IRunActions,
      private readonly _close: () => void
    ) {
      super();
      this.addClass('jp-hpc-RunHistory');
    }

    render(): JSX.Element {
      const trans = this._trans;
      const model = this._model;
      const closing =
        <A extends unknown[]>(act: (...args: A) => void) =>
        (...args: A) => {
          this._close();
          act(...args);
        };
      const actions: IRunActions = {
        onOpenJob: closing(this._actions.onOpenJob),
        onOpenObject: closing(this._actions.onOpenObject),
        onShowLineage: closing(this._actions.onShowLineage)
      };
      return (
        <TranslatorContext.Provider value={trans}>
          <UseSignal signal={model.changed}>
            {() => (
              <div data-testid="hpc-run-history">
                {model.error && (
                  <Alert
                    message={model.error.message}
                    onRetry={() => model.loadMore()}
                  />
                )}
                {model.runs.length === 0 && !model.loading && !model.error ? (
                  <p className="jp-hpc-Section-empty">
                    {trans.__('No runs yet.')}
                  </p>
                ) : (
                  <TriggerRunList
                    runs={model.runs}
                    actions={actions}
                    label={trans.__('Runs')}
                  />
                )}
                {model.loading ? (
                  <p className="jp-hpc-Section-empty">{trans.__('Loading…')}</p>
                ) : (
                  model.hasMore &&
                  !model.error && (
                    <Button
                      small
                      data-testid="hpc-run-history-more"
                      onClick={() => void model.loadMore()}
                    >
                      {trans.__('Older runs')}
                    </Button>
                  )
                )}
              </div>
            )}
          </UseSignal>
        </TranslatorContext.Provider>
      );
    }
  }
}
