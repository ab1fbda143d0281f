import type { Endpoint, ModelCatalog } from '@hpc-bridge/server/contract';
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { addIcon, refreshIcon } from '@jupyterlab/ui-components';
import { CommandIDs } from '../commands';
// The Endpoints section must exist when the panel opens: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { EndpointsModel } from './EndpointsModel';
import { TierChoice } from '../storage/TierChoice';
import { IBridgeClient, IBridgePanel } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { EndpointsSectionWidget } from './EndpointsSection';
import { confirmDestructive, watchConfirmSetting } from '../ui/confirm';
import { SectionWiring } from '../ui/sectionWiring';
import { TRANSLATION_DOMAIN } from '../ui/translator';
import { EndpointsApi } from './api';
// Small, and loaded with the model before this split: kept at the top.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { EndpointForm } from './createForm';

/**
 * Model-serving endpoints: the Endpoints section of the panel (create, start,
 * stop, delete, keys, snippets, a chat box and live metrics).
 */
export const endpointsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:endpoints',
  description:
    'Serves models of the HPC Bridge catalog as endpoints behind one OpenAI-compatible URL: create and manage them, their API keys, try them in a chat box and watch their traffic.',
  autoStart: true,
  requires: [IBridgeClient],
  optional: [IBridgePanel, ICommandPalette, ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    panel: IBridgePanel | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const confirmSetting = watchConfirmSetting(settingRegistry);
    const model = new EndpointsModel({ api: new EndpointsApi(client) });
    SectionWiring.start(app, client, model);

    const dialogs = async () =>
      (await import('./EndpointsDialogs')).EndpointsDialogs;

    const report = (title: string) => SectionWiring.report(title, sentence);

    app.commands.addCommand(CommandIDs.createEndpoint, {
      label: trans.__('Create Model Endpoint…'),
      caption: trans.__(
        'Serve a model of the catalog on the cluster behind one stable OpenAI-compatible URL'
      ),
      icon: addIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: async () => {
        // Read again: the dialog shows the cloud's quota as it is now.
        let catalog: ModelCatalog;
        try {
          catalog = await model.refreshCatalog();
        } catch (reason) {
          report(trans.__('Cannot create an endpoint'))(reason);
          return;
        }
        const first = catalog.models[0];
        if (!first) {
          report(trans.__('Cannot create an endpoint'))(
            new Error(trans.__('The model catalog of the bridge is empty.'))
          );
          return;
        }
        const groups = model.user?.groups ?? [];
        const tiers = await TierChoice.load(client).then(
          list => ({ options: TierChoice.options(list), error: null }),
          (reason: unknown) => ({ options: [], error: sentence(reason) })
        );
        const context = {
          catalog,
          tiers: tiers.options,
          tiersError: tiers.error,
          groups: groups.filter(
            group => !group.endsWith(EndpointsModel.INSTRUCTOR_SUFFIX)
          ),
          courses: EndpointsModel.courses(groups)
        };
        const { askCreate } = await dialogs();
        let form: EndpointForm.ICreateForm | null = EndpointForm.defaults(
          catalog,
          first
        );
        let error: string | null = null;
        // A refusal of the bridge reopens the dialog with the input and the reason.
        for (;;) {
          form = await askCreate(trans, context, form, error);
          if (!form) {
            return;
          }
          try {
            await model.create(EndpointForm.createRequest(form));
            if (panel) {
              app.shell.activateById(panel.id);
            }
            return;
          } catch (reason) {
            error = sentence(reason);
          }
        }
      }
    });

    app.commands.addCommand(CommandIDs.refreshEndpoints, {
      label: trans.__('Refresh Model Endpoints'),
      caption: trans.__('Ask the HPC Bridge for the endpoints and their state'),
      icon: refreshIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => model.refresh()
    });

    const createKey = async (endpoint: Endpoint) => {
      const { askKey, keyRequest, showKey } = await dialogs();
      let input: Awaited<ReturnType<typeof askKey>> = {
        name: '',
        requestsPerMinute: '',
        tokenBudget: ''
      };
      let error: string | null = null;
      for (;;) {
        input = await askKey(trans, endpoint, input, error);
        if (!input) {
          return;
        }
        try {
          const created = await model.createKey(endpoint.id, keyRequest(input));
          await showKey(trans, endpoint, created);
          return;
        } catch (reason) {
          error = sentence(reason);
        }
      }
    };

    if (panel) {
      panel.addSection(
        new EndpointsSectionWidget({
          model,
          trans,
          actions: {
            onCreate: () =>
              void app.commands.execute(CommandIDs.createEndpoint),
            onRetry: () => model.refresh(),
            onToggle: endpoint => model.toggle(endpoint.id),
            onStart: endpoint =>
              void model
                .startEndpoint(endpoint.id)
                .catch(report(trans.__('Cannot start %1', endpoint.name))),
            onStop: endpoint =>
              void model
                .stopEndpoint(endpoint.id)
                .catch(report(trans.__('Cannot stop %1', endpoint.name))),
            onDelete: endpoint =>
              void (async () => {
                const sure = await confirmDestructive(confirmSetting, {
                  trans,
                  title: trans.__('Delete endpoint %1?', endpoint.name),
                  body: trans.__(
                    'Its replicas stop and its API keys stop working. This cannot be undone.'
                  ),
                  action: trans.__('Delete')
                });
                if (sure) {
                  await model.deleteEndpoint(endpoint.id);
                }
              })().catch(report(trans.__('Cannot delete %1', endpoint.name))),
            onCreateKey: endpoint =>
              void createKey(endpoint).catch(
                report(trans.__('Cannot create a key'))
              ),
            onRevokeKey: (endpoint, key) =>
              void (async () => {
                const sure = await confirmDestructive(confirmSetting, {
                  trans,
                  title: trans.__('Revoke key %1?', key.name),
                  body: trans.__(
                    'Clients using %1… are refused from now on. This cannot be undone.',
                    key.prefix
                  ),
                  action: trans.__('Revoke')
                });
                if (sure) {
                  await model.revokeKey(endpoint.id, key.id);
                }
              })().catch(report(trans.__('Cannot revoke the key'))),
            onSend: (endpoint, prompt) => void model.send(endpoint.id, prompt)
          }
        }),
        { rank: 400 }
      );
    }

    SectionWiring.addToPalette(palette, trans, [
      CommandIDs.createEndpoint,
      CommandIDs.refreshEndpoints
    ]);
  }
};

/** The bridge's sentence for an error, with the fields it names. */
export function sentence(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  // A BridgeRequestError carries the bridge's error body.
  const body = 'body' in error ? (error as { body: unknown }).body : null;
  const details =
    typeof body === 'object' && body !== null && 'error' in body
      ? (body as { error: { details?: unknown } }).error.details
      : undefined;
  if (!Array.isArray(details)) {
    return error.message;
  }
  const issues = details
    .map(detail =>
      typeof detail === 'object' &&
      detail !== null &&
      'path' in detail &&
      'message' in detail
        ? `${String(detail.path).replace(/^\//, '')}: ${String(detail.message)}`
        : null
    )
    .filter((issue): issue is string => issue !== null);
  return issues.length > 0
    ? `${error.message} (${issues.join('; ')})`
    : error.message;
}
