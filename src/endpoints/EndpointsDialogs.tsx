import type {
  Endpoint,
  EndpointKeyCreate,
  EndpointKeyCreated,
  ModelCatalog
} from '@hpc-bridge/server/contract';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';
import { Snippets } from './snippets';
import type { TierChoice } from '../storage/TierChoice';
import { CopyField } from '../ui/CopyField';
import { SnippetFields } from './SnippetFields';
import { askFormDialog, FormError } from '../ui/FormDialog';
import { TextField } from '../ui/FormFields';
import { EndpointCreateForm } from './EndpointCreateForm';
import { TranslatorContext } from '../ui/translator';
import { EndpointForm } from './createForm';

/**
 * The dialogs of the Endpoints section: create an endpoint, create a key,
 * show a new key once. Each form body is a
 * widget whose `getValue` gives the input.
 */
export namespace EndpointsDialogs {
  export interface ICreateContext {
    catalog: ModelCatalog;
    /** The user's hub groups (visibility `group`). */
    groups: readonly string[];
    /** The courses the user teaches (visibility `course`). */
    courses: readonly string[];
    /** The storage tiers the user can read, for the replicas. */
    tiers: readonly TierChoice.IOption[];
    /** Why the tiers could not be listed; `null` when they were. */
    tiersError: string | null;
  }

  /**
   * Asks for a new endpoint, starting from `form`; `error` (the bridge's
   * refusal of the last try) is shown above the fields.
   */
  export async function askCreate(
    trans: TranslationBundle,
    context: ICreateContext,
    form: EndpointForm.ICreateForm,
    error: string | null = null
  ): Promise<EndpointForm.ICreateForm | null> {
    return askFormDialog({
      trans,
      title: trans.__('Create a model endpoint'),
      okLabel: trans.__('Create'),
      className: 'jp-hpc-EndpointDialog',
      value: form,
      render: (value, set) => (
        <EndpointCreateForm
          context={context}
          value={value}
          error={error}
          onChange={set}
        />
      )
    });
  }

  export interface IKeyInput {
    name: string;
    /** Empty: unlimited. */
    requestsPerMinute: string;
    /** Empty: unlimited. */
    tokenBudget: string;
  }

  /** Asks for a new key's name and limits. */
  export async function askKey(
    trans: TranslationBundle,
    endpoint: Endpoint,
    input: IKeyInput,
    error: string | null = null
  ): Promise<IKeyInput | null> {
    return askFormDialog({
      trans,
      title: trans.__('New key for %1', endpoint.name),
      okLabel: trans.__('Create key'),
      className: 'jp-hpc-EndpointDialog',
      value: input,
      render: (value, set) => (
        <>
          <FormError message={error} />
          <TextField
            label={trans.__('Key name')}
            value={value.name}
            placeholder={trans.__('e.g. laptop')}
            onChange={name => set({ ...value, name })}
          />
          <TextField
            label={trans.__('Requests per minute (empty: unlimited)')}
            value={value.requestsPerMinute}
            inputMode="numeric"
            onChange={requestsPerMinute => set({ ...value, requestsPerMinute })}
          />
          <TextField
            label={trans.__('Token budget (empty: unlimited)')}
            value={value.tokenBudget}
            inputMode="numeric"
            onChange={tokenBudget => set({ ...value, tokenBudget })}
          />
        </>
      )
    });
  }

  /** The request of a filled-in key dialog (numbers as the user typed them). */
  export function keyRequest(input: IKeyInput): EndpointKeyCreate {
    const number = (text: string): number | undefined =>
      text.trim() === '' ? undefined : Number(text.trim());
    const requestsPerMinute = number(input.requestsPerMinute);
    const tokenBudget = number(input.tokenBudget);
    return {
      name: input.name.trim(),
      ...(requestsPerMinute === undefined ? {} : { requestsPerMinute }),
      ...(tokenBudget === undefined ? {} : { tokenBudget })
    };
  }

  /** Shows a new key, the only time it is shown, with snippets that use it. */
  export async function showKey(
    trans: TranslationBundle,
    endpoint: Endpoint,
    created: EndpointKeyCreated
  ): Promise<void> {
    const snippets = Snippets.both({
      url: endpoint.url,
      model: endpoint.model,
      key: created.key
    });
    await showDialog({
      title: trans.__('Key %1 created', created.name),
      body: ReactWidget.create(
        <TranslatorContext.Provider value={trans}>
          <div className="jp-hpc-KeyCreated">
            <CopyField label={trans.__('API key')} value={created.key} />
            <p className="jp-hpc-Form-warning">
              {trans.__(
                'Copy the key now: it will not be shown again. The bridge keeps only a hash of it.'
              )}
            </p>
            <SnippetFields snippets={snippets} />
          </div>
        </TranslatorContext.Provider>
      ),
      buttons: [Dialog.okButton({ label: trans.__('Close') })]
    });
  }
}
