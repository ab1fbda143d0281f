import type { Trigger } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import { addIcon, Button } from '@jupyterlab/ui-components';
import React from 'react';
import { ActionButton } from '../ui/ActionButton';
import { IconButton } from '../ui/IconButton';
import { PolledList } from '../ui/PolledList';
import { Section } from '../ui/Section';
import { VisibleSectionWidget } from '../ui/SectionWidget';
import { useTranslator } from '../ui/translator';
import type { PipelinesModel } from './PipelinesModel';
import { TriggerSummary } from './summary';
import { type IRunActions, TriggerRunList } from './TriggerRuns';

/**
 * The **Pipelines** section: the user's triggers, each with its state, what
 * it watches and does in one sentence, its last runs and its actions.
 */
export function PipelinesSection(props: PipelinesSection.IProps): JSX.Element {
  const trans = useTranslator();
  const { model, actions } = props;
  return (
    <Section
      id="pipelines"
      title={trans.__('Pipelines')}
      className="jp-hpc-Pipelines"
      toolbar={
        <IconButton
          className="jp-hpc-Pipelines-create"
          label={trans.__('Create a trigger')}
          title={trans.__(
            'New trigger…: run a notebook, copy or roll an endpoint when something happens'
          )}
          icon={addIcon}
          onClick={actions.onCreate}
        />
      }
      refreshLabel={trans.__('Refresh the triggers')}
      onRefresh={() => void actions.onRetry()}
    >
      <PolledList
        model={model}
        onRetry={actions.onRetry}
        count={model.triggers.length}
        empty={trans.__(
          'No triggers yet. Create one to run a notebook when a file lands, a job ends or on a schedule.'
        )}
        className="jp-hpc-TriggerList"
        label={trans.__('Trigger list')}
      >
        {model.triggers.map(trigger => (
          <TriggerItem
            key={trigger.id}
            trigger={trigger}
            model={model}
            actions={actions}
          />
        ))}
      </PolledList>
    </Section>
  );
}

export namespace PipelinesSection {
  export interface IActions extends IRunActions {
    onCreate: () => void;
    onRetry: () => Promise<void>;
    onTogglePause: (trigger: Trigger) => void;
    onDryRun: (trigger: Trigger) => void;
    onHistory: (trigger: Trigger) => void;
    onDelete: (trigger: Trigger) => void;
  }

  export interface IProps {
    /** Read only: the section renders what the model holds. */
    model: PipelinesModel;
    actions: IActions;
  }
}

function TriggerItem(props: {
  trigger: Trigger;
  model: PipelinesModel;
  actions: PipelinesSection.IActions;
}): JSX.Element {
  const trans = useTranslator();
  const { trigger, model, actions } = props;
  const busy = model.busy(trigger.id);
  const paused = trigger.state === 'paused';
  const sentence = TriggerSummary.sentence(trigger, trans, model.names);
  return (
    <li
      className={`jp-hpc-Trigger jp-mod-${trigger.state}`}
      data-testid="hpc-trigger"
      data-trigger-id={trigger.id}
      aria-label={trans.__('Trigger %1', trigger.name)}
    >
      <div className="jp-hpc-Trigger-header">
        <span className="jp-hpc-Trigger-name" title={trigger.name}>
          {trigger.name}
        </span>
        <span
          className={`jp-hpc-TriggerState jp-mod-${trigger.state}`}
          data-testid="hpc-trigger-state"
        >
          {paused ? trans.__('paused') : trans.__('active')}
        </span>
      </div>
      <p className="jp-hpc-Trigger-sentence" title={sentence}>
        {sentence}
      </p>
      {trigger.lastRuns.length === 0 ? (
        <p className="jp-hpc-Trigger-noRuns">{trans.__('No runs yet.')}</p>
      ) : (
        <TriggerRunList
          runs={trigger.lastRuns}
          actions={actions}
          label={trans.__('Last runs of %1', trigger.name)}
        />
      )}
      <div
        className="jp-hpc-Trigger-actions"
        role="toolbar"
        aria-label={trans.__('Actions of %1', trigger.name)}
      >
        <Button
          small
          disabled={busy}
          data-testid="hpc-trigger-pause"
          aria-label={
            paused
              ? trans.__('Resume %1', trigger.name)
              : trans.__('Pause %1', trigger.name)
          }
          onClick={() => actions.onTogglePause(trigger)}
        >
          {paused ? trans.__('Resume') : trans.__('Pause')}
        </Button>
        <Button
          small
          data-testid="hpc-trigger-dry-run"
          aria-label={trans.__('Dry run of %1', trigger.name)}
          title={trans.__('What would fire now, and why a run would wait')}
          onClick={() => actions.onDryRun(trigger)}
        >
          {trans.__('Dry run')}
        </Button>
        <Button
          small
          data-testid="hpc-trigger-history"
          aria-label={trans.__('Run history of %1', trigger.name)}
          onClick={() => actions.onHistory(trigger)}
        >
          {trans.__('History')}
        </Button>
        <ActionButton
          kind="warn"
          disabled={busy}
          data-testid="hpc-trigger-delete"
          aria-label={trans.__('Delete %1', trigger.name)}
          onClick={() => actions.onDelete(trigger)}
        >
          {trans.__('Delete')}
        </ActionButton>
      </div>
    </li>
  );
}

/** The Pipelines section as a widget of the HPC Bridge panel. */
export class PipelinesSectionWidget extends VisibleSectionWidget<PipelinesModel> {
  constructor(options: PipelinesSectionWidget.IOptions) {
    super({
      ...options,
      className: 'jp-hpc-PipelinesSectionWidget',
      label: options.trans.__('Pipelines'),
      render: model => (
        <PipelinesSection model={model} actions={options.actions} />
      )
    });
  }
}

export namespace PipelinesSectionWidget {
  export interface IOptions {
    model: PipelinesModel;
    trans: TranslationBundle;
    actions: PipelinesSection.IActions;
  }
}
