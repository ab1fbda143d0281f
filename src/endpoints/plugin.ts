import type { Endpoint, ModelCatalog } from '@hpc-bridge/server/contract';
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
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
// Registers its command at activation (small; its dialog loads lazily).
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { addUserModelCommands } from './userModelCommands';
// Your models are listed in the Endpoints section when the panel opens.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { UserModelsApi, UserModelsModel } from './UserModelsModel';
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
  optional: [
    IBridgePanel,
    ICommandPalette,
    ISettingRegistry,
    ITranslator,
    IFileBrowserFactory
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    panel: IBridgePanel | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    browsers: IFileBrowserFactory | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const confirmSetting = watchConfirmSetting(settingRegistry);
    const model = new EndpointsModel({ api: new EndpointsApi(client) });
    SectionWiring.start(app, client, model);
    // The user's own models: the create form lists them from the catalog.
    const userModels = new UserModelsModel({
      api: new UserModelsApi(client),
      trans,
      onChanged: () => void model.refreshCatalog().catch(() => undefined)
    });
    SectionWiring.start(app, client, {
      start: () => userModels.load(),
      refresh: () => userModels.load()
    });
    addUserModelCommands(app, {
      trans,
      model: userModels,
      browsers,
      onRegistered: () => panel && app.shell.activateById(panel.id)
    });

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

    /** Asks first (unless the user turned that off), then acts; a failure is shown. */
    const confirmed = (
      question: { title: string; body: string; action: string },
      act: () => Promise<unknown>,
      failure: string
    ): void =>
      void (async () => {
        if (await confirmDestructive(confirmSetting, { trans, ...question })) {
          await act();
        }
      })().catch(report(failure));

    if (panel) {
      panel.addSection(
        new EndpointsSectionWidget({
          model,
          trans,
          userModels: {
            model: userModels,
            onDelete: m =>
              confirmed(
                {
                  title: trans.__('Delete model %1?', m.name),
                  body: trans.__(
                    'It leaves your models; endpoints serving it keep serving the file, and the file stays on its tier.'
                  ),
                  action: trans.__('Delete')
                },
                () => userModels.remove(m.name),
                trans.__('Cannot delete model %1', m.name)
              )
          },
          actions: {
            onCreate: () =>
              void app.commands.execute(CommandIDs.createEndpoint),
            onRetry: async () => {
              await Promise.all([model.refresh(), userModels.load()]);
            },
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
              confirmed(
                {
                  title: trans.__('Delete endpoint %1?', endpoint.name),
                  body: trans.__(
                    'Its replicas stop and its API keys stop working. This cannot be undone.'
                  ),
                  action: trans.__('Delete')
                },
                () => model.deleteEndpoint(endpoint.id),
                trans.__('Cannot delete %1', endpoint.name)
              ),
            onCreateKey: endpoint =>
              void createKey(endpoint).catch(
                report(trans.__('Cannot create a key'))
              ),
            onRevokeKey: (endpoint, key) =>
              confirmed(
                {
                  title: trans.__('Revoke key %1?', key.name),
                  body: trans.__(
                    'Clients using %1… are refused from now on. This cannot be undone.',
                    key.prefix
                  ),
                  action: trans.__('Revoke')
                },
                () => model.revokeKey(endpoint.id, key.id),
                trans.__('Cannot revoke the key')
              ),
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
