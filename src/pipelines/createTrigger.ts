import {
  type NotebookContent,
  NotebookContentSchema
} from '@hpc-bridge/server/contract';
import type { Contents } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import { describeIssues } from '../transport/errors';
import type { IPipelinesApi } from './api';
import type { PipelinesDialogs } from './PipelinesDialogs';
import type { PipelinesModel } from './PipelinesModel';
import { TriggerForm } from './triggerForm';

/**
 * The new trigger flow: what the form offers, the form until the bridge
 * accepts it (its refusals next to the fields they name), the notebook read
 * through the contents manager. Resolves with whether a trigger was created.
 */
export async function createTrigger(options: {
  api: IPipelinesApi;
  model: PipelinesModel;
  contents: Contents.IManager;
  trans: TranslationBundle;
  browse: PipelinesDialogs.Browse;
}): Promise<boolean> {
  const { api, model, contents, trans, browse } = options;
  const [tiers, profiles, endpoints] = await Promise.all([
    api.tiers(),
    api.profiles(),
    // Without endpoints the form still offers the other actions.
    api.endpoints().catch(() => [])
  ]);
  const context: TriggerForm.IContext = {
    tiers,
    profiles,
    endpoints,
    triggers: model.triggers.map(({ id, name }) => ({ id, name }))
  };
  const { PipelinesDialogs } = await import('./PipelinesDialogs');
  let form = TriggerForm.defaults(context);
  let errors: TriggerForm.FieldErrors = {};
  for (;;) {
    const asked = await PipelinesDialogs.askCreate(
      trans,
      context,
      form,
      errors,
      browse
    );
    if (!asked) {
      return false;
    }
    form = asked;
    const notebook =
      form.action === 'submit'
        ? await readNotebook(contents, form, trans)
        : { content: null };
    if ('error' in notebook) {
      errors = { notebookPath: notebook.error };
      continue;
    }
    const request = TriggerForm.createRequest(form, notebook.content);
    errors = TriggerForm.check(request);
    if (Object.keys(errors).length > 0) {
      continue;
    }
    try {
      await model.create(request);
      return true;
    } catch (reason) {
      errors = TriggerForm.bridgeErrors(reason, form);
    }
  }
}

/** The notebook of a submit action as the contract wants it, or why it cannot be read. */
async function readNotebook(
  contents: Contents.IManager,
  form: TriggerForm.IForm,
  trans: TranslationBundle
): Promise<{ content: NotebookContent } | { error: string }> {
  if (!form.notebookPath.trim()) {
    return { error: trans.__('Choose the notebook to run.') };
  }
  const path = TriggerForm.notebookContentsPath(form);
  try {
    const file = await contents.get(path, { type: 'notebook', content: true });
    const parsed = NotebookContentSchema.safeParse(file.content);
    return parsed.success
      ? { content: parsed.data }
      : {
          error: trans.__(
            '%1 is not a notebook in nbformat 4: %2',
            path,
            describeIssues(parsed.error)
          )
        };
  } catch (reason) {
    return {
      error: trans.__(
        'Cannot read %1: %2',
        path,
        reason instanceof Error ? reason.message : String(reason)
      )
    };
  }
}
