/**
 * What the jobs plugin does when asked: the Submit dialog, cell jobs, logs,
 * outputs, notifications. Loaded on first use, not at application start.
 */
import {
  type Job,
  type JobSubmit,
  type NotebookContent,
  NotebookContentSchema
} from '@hpc-bridge/server/contract';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import type { ICodeCellModel } from '@jupyterlab/cells';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type * as nbformat from '@jupyterlab/nbformat';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { ReadonlyJSONValue } from '@lumino/coreutils';
import type { JobsModel } from './JobsModel';
import { JobEndGroup } from './JobEndGroup';
import { LogModel } from './LogModel';
import { SubmitModel } from './SubmitModel';
import { cellResults, jobCellIndices, jobMarker } from '../notebook/cells';
import { outputPath } from '../notebook/parameters';
import type { IBridgeClient, ITierFilePicker } from '../tokens';
import { LogViewer } from './LogViewer';
import { SubmitDialog } from './SubmitDialog';

/** A cell job whose outputs go back under its cells. */
export interface ICellJob {
  path: string;
  cells: number[];
  source: NotebookContent['cells'];
}

/** What the plugin does with jobs, apart from commands. */
export class JobActions {
  constructor(
    private readonly _options: {
      app: JupyterFrontEnd;
      client: IBridgeClient;
      model: JobsModel;
      trans: TranslationBundle;
      docManager: IDocumentManager | null;
      /** Chooses the job's inputs and outputs in the tiers' file dialogs. */
      tierPicker?: ITierFilePicker | null;
    }
  ) {}

  /** Show the Submit dialog; resolves with the job, or `null` if cancelled. */
  async submitDialog(
    notebook: JobSubmit['notebook'],
    cells?: number[]
  ): Promise<Job | null> {
    const { client, model, trans } = this._options;
    const submitModel = new SubmitModel({
      client,
      trans,
      notebook,
      cells,
      submit: request => model.submit(request)
    });
    const picker = this._options.tierPicker;
    return SubmitDialog.run({
      model: submitModel,
      trans,
      title: cells
        ? trans.__('Run selected cells on cluster')
        : trans.__('Submit to cluster'),
      browse: picker ? picker.pick.bind(picker) : undefined
    });
  }

  /** The notebook content as the contract wants it, or an error for the user. */
  parseNotebook(content: unknown): NotebookContent {
    return parseNotebook(content, this._options.trans);
  }

  /** Save the notebook, then read its content from the model. */
  saveAndRead(panel: NotebookPanel): Promise<NotebookContent> {
    return saveAndRead(panel, this._options.trans);
  }

  /** The `setup` cells and the selected cells of a notebook. */
  selectedCells(panel: NotebookPanel, content: NotebookContent): number[] {
    return selectedCells(panel, content);
  }

  watchCellJob(id: string, job: ICellJob): void {
    this._cellJobs.set(id, job);
  }

  /** Put the outputs of a finished cell job under the original cells. */
  async applyCellJob(
    job: Job,
    notebooks: INotebookTracker | null
  ): Promise<void> {
    const cellJob = this._cellJobs.get(job.id);
    if (!cellJob || !notebooks) {
      return;
    }
    this._cellJobs.delete(job.id);
    const panel = notebooks.find(
      widget => widget.context.path === cellJob.path
    );
    if (!panel?.model) {
      return;
    }
    const { client, trans } = this._options;
    let executed: NotebookContent;
    try {
      executed = await client.getOutput(job.id, 0);
    } catch (error) {
      Notification.error(
        trans.__(
          'The outputs of job %1 cannot be read: %2',
          job.id,
          error instanceof Error ? error.message : String(error)
        )
      );
      return;
    }
    const cells = panel.model.cells;
    for (const result of cellResults(
      cellJob.source,
      cellJob.cells,
      executed.cells
    )) {
      let target = result.index < cells.length ? cells.get(result.index) : null;
      if (result.id && target?.id !== result.id) {
        target = null;
        for (let i = 0; i < cells.length; i++) {
          if (cells.get(i).id === result.id) {
            target = cells.get(i);
            break;
          }
        }
      }
      if (!target || target.type !== 'code') {
        continue;
      }
      const code = target as ICodeCellModel;
      code.outputs.clear();
      code.outputs.add(jobMarker(job.id));
      for (const output of result.outputs) {
        if (isOutput(output)) {
          code.outputs.add(output);
        }
      }
      code.executionCount = result.executionCount;
      code.setMetadata('hpc_bridge', { job: job.id });
    }
  }

  openLog(job: Job, element: number, autoScroll: boolean): void {
    const { app, client, trans } = this._options;
    const id = LogViewer.id(job.id, element);
    for (const widget of app.shell.widgets('main')) {
      if (widget.id === id) {
        app.shell.activateById(id);
        return;
      }
    }
    const viewer = new LogViewer({
      model: new LogModel({ client, jobId: job.id, element }),
      jobName: job.name,
      trans,
      autoScroll
    });
    app.shell.add(viewer, 'main');
    app.shell.activateById(viewer.id);
  }

  /** Save the executed notebook next to the source and open it. */
  async openOutput(job: Job, element: number | null): Promise<void> {
    const { app, client, trans, docManager } = this._options;
    const path = outputPath(job.notebookPath, job.id, element);
    try {
      const content = await client.getOutput(job.id, element ?? 0);
      await app.serviceManager.contents.save(path, {
        type: 'notebook',
        format: 'json',
        content
      });
    } catch (error) {
      Notification.error(
        trans.__(
          'Cannot save the output of job %1 as %2: %3',
          job.id,
          path,
          error instanceof Error ? error.message : String(error)
        ),
        { autoClose: 10000 }
      );
      return;
    }
    const open = docManager?.findWidget(path);
    if (open) {
      await open.context.revert();
      app.shell.activateById(open.id);
    } else {
      await app.commands.execute('docmanager:open', { path });
    }
  }

  /**
   * A notification for a job that ended; jobs that end close together share
   * one ("3 jobs finished: …"), updated as they end. `show` opens the job's
   * details, or the jobs list for `null`.
   */
  notify(job: Job, show: (job: Job | null) => void): void {
    const group = this._endedJobs;
    if (!group.add(job) && this._endNoticeId !== null) {
      const notice = this._endNotice(group.jobs, show);
      if (Notification.update({ id: this._endNoticeId, ...notice })) {
        return;
      }
      // Dismissed: the job gets a notification of its own.
      group.restart(job);
    }
    const { message, type, ...options } = this._endNotice(group.jobs, show);
    this._endNoticeId = Notification.emit(message, type, options);
  }

  /** The notification of jobs that ended, with their actions. */
  private _endNotice(
    jobs: readonly Job[],
    show: (job: Job | null) => void
  ): JobEndGroup.ISummary & Notification.IOptions<ReadonlyJSONValue> {
    const { trans } = this._options;
    const actions: Notification.IAction[] = [];
    const [job] = jobs;
    if (jobs.length === 1 && !job.isArray && job.state !== 'CANCELLED') {
      actions.push({
        label: trans.__('Open output'),
        caption: trans.__(
          'Save the executed notebook next to the source and open it'
        ),
        callback: () => void this.openOutput(job, null)
      });
    }
    actions.push(
      jobs.length === 1
        ? {
            label: trans.__('Details'),
            callback: () => show(job),
            displayType: 'link'
          }
        : {
            label: trans.__('Show jobs'),
            callback: () => show(null),
            displayType: 'link'
          }
    );
    return {
      ...JobEndGroup.summarize(jobs, trans),
      actions,
      autoClose: JobEndGroup.AUTO_CLOSE_MS
    };
  }

  private readonly _endedJobs = new JobEndGroup();
  private _endNoticeId: string | null = null;
  private readonly _cellJobs = new Map<string, ICellJob>();
}

/** The notebook content as the contract wants it, or an error for the user. */
export function parseNotebook(
  content: unknown,
  trans: TranslationBundle
): NotebookContent {
  const parsed = NotebookContentSchema.safeParse(content);
  if (!parsed.success) {
    throw new Error(
      trans.__(
        'This is not an nbformat 4 notebook: %1',
        parsed.error.issues[0]?.message ?? ''
      )
    );
  }
  return parsed.data;
}

/** Save the notebook, then read its content from the model. */
export async function saveAndRead(
  panel: NotebookPanel,
  trans: TranslationBundle
): Promise<NotebookContent> {
  await panel.context.ready;
  if (!panel.context.model.readOnly) {
    await panel.context.save();
  }
  return parseNotebook(panel.context.model.toJSON(), trans);
}

export function isOutput(value: unknown): value is nbformat.IOutput {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { output_type?: unknown }).output_type === 'string'
  );
}

/**
 * The cells a cell job runs for a notebook panel: those tagged `setup` and
 * the selected ones.
 */
export function selectedCells(
  panel: NotebookPanel,
  content: NotebookContent
): number[] {
  const selected: number[] = [];
  panel.content.widgets.forEach((cell, index) => {
    if (panel.content.isSelectedOrActive(cell)) {
      selected.push(index);
    }
  });
  return jobCellIndices(content.cells, selected);
}
