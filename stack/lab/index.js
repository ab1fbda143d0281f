/*
 * The lab app: the standard JupyterLab extensions bundled here, plus the
 * federated (prebuilt) extensions that the server lists in the page config,
 * started like jupyterlab's dev_mode/index.js does it.
 */
import { JupyterLab } from '@jupyterlab/application';
import { Dialog, Notification } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IConnectionStatus, IServiceManager } from '@jupyterlab/services';
import { PluginRegistry } from '@lumino/coreutils';
// Not '@jupyterlab/galata/lib/extension': that module also pulls in the
// terminal package, which this app does not ship.
import { GalataInpage } from '@jupyterlab/galata/lib/extension/global';
import { PLUGIN_ID_GALATA_HELPERS } from '@jupyterlab/galata/lib/extension/tokens';

import { extensions, mimeExtensions } from './.generated/extensions.js';
import './.generated/style.js';

/**
 * Plugins of the bundled extensions that cannot work here: they need
 * @jupyterlab/lsp-extension and a jupyter-lsp server, which the app does not
 * ship. Treated as disabled.
 */
const UNAVAILABLE = new Set([
  '@jupyterlab/fileeditor-extension:language-server',
  '@jupyterlab/notebook-extension:language-server'
]);

/** The helpers galata's in-page object uses (notifications, dialogs). */
const galataHelpers = {
  id: PLUGIN_ID_GALATA_HELPERS,
  description: 'Galata in-page helpers, for the UI tests.',
  autoStart: true,
  activate: () =>
    Object.freeze({
      notifications: Notification.manager,
      dialogs: Dialog.tracker
    })
};

async function createFederatedModule(scope, module) {
  const factory = await window._JUPYTERLAB[scope].get(module);
  const instance = factory();
  instance.__scope__ = scope;
  return instance;
}

export async function main() {
  const federated = JSON.parse(
    PageConfig.getOption('federated_extensions') || '[]'
  );

  const disabled = [];
  const deferred = [];
  const ignorePlugins = [];
  const allPlugins = [];

  /** Plugins of an extension module that are not disabled. */
  function* activePlugins(module, scope) {
    const exports = Object.prototype.hasOwnProperty.call(module, '__esModule')
      ? module.default
      : module;
    const plugins = Array.isArray(exports) ? exports : [exports];
    for (const plugin of plugins) {
      const isDisabled =
        UNAVAILABLE.has(plugin.id) ||
        PageConfig.Extension.isDisabled(plugin.id);
      allPlugins.push({
        id: plugin.id,
        description: plugin.description,
        requires: plugin.requires ?? [],
        optional: plugin.optional ?? [],
        provides: plugin.provides ?? null,
        autoStart: plugin.autoStart,
        enabled: !isDisabled,
        extension: scope
      });
      if (isDisabled) {
        disabled.push(plugin.id);
        continue;
      }
      if (PageConfig.Extension.isDeferred(plugin.id)) {
        deferred.push(plugin.id);
        ignorePlugins.push(plugin.id);
      }
      yield plugin;
    }
  }

  // A federated extension with the same name as a bundled one replaces it.
  const federatedNames = new Set();
  const federatedPlugins = [];
  const federatedMimePlugins = [];
  const federatedStyles = [];
  for (const data of federated) {
    if (data.extension) {
      federatedNames.add(data.name);
      federatedPlugins.push(createFederatedModule(data.name, data.extension));
    }
    if (data.mimeExtension) {
      federatedNames.add(data.name);
      federatedMimePlugins.push(
        createFederatedModule(data.name, data.mimeExtension)
      );
    }
    if (data.style && !PageConfig.Extension.isDisabled(data.name)) {
      federatedStyles.push(createFederatedModule(data.name, data.style));
    }
  }

  async function collect(bundled, federatedPromises) {
    const plugins = [];
    for (const [name, load] of bundled) {
      if (federatedNames.has(name)) {
        continue;
      }
      try {
        plugins.push(...activePlugins(await load(), name));
      } catch (reason) {
        console.error(`Cannot load extension ${name}:`, reason);
      }
    }
    for (const result of await Promise.allSettled(federatedPromises)) {
      if (result.status === 'fulfilled') {
        plugins.push(...activePlugins(result.value, result.value.__scope__));
      } else {
        console.error(result.reason);
      }
    }
    return plugins;
  }

  const mimePlugins = await collect(mimeExtensions, federatedMimePlugins);
  const register = await collect(extensions, federatedPlugins);
  register.push(...activePlugins([galataHelpers], '@jupyterlab/galata'));

  for (const result of await Promise.allSettled(federatedStyles)) {
    if (result.status === 'rejected') {
      console.error(result.reason);
    }
  }

  const pluginRegistry = new PluginRegistry();
  pluginRegistry.registerPlugins(register);
  const connectionStatus =
    await pluginRegistry.resolveOptionalService(IConnectionStatus);
  const serviceManager =
    await pluginRegistry.resolveOptionalService(IServiceManager);

  const lab = new JupyterLab({
    pluginRegistry,
    serviceManager: serviceManager ?? undefined,
    connectionStatus: connectionStatus ?? undefined,
    mimeExtensions: mimePlugins,
    disabled: {
      matches: disabled,
      patterns: [...PageConfig.Extension.disabled]
    },
    deferred: {
      matches: deferred,
      patterns: [...PageConfig.Extension.deferred]
    },
    availablePlugins: allPlugins
  });

  // galata drives the app through these globals; they expose nothing that
  // code running in the page could not reach anyway.
  window.jupyterapp = lab;
  window.galata = new GalataInpage();
  // Some GalataInpage methods read the private `_app` that only the `app`
  // getter fills in; fill it now.
  void window.galata.app;

  await lab.start({ ignorePlugins, bubblingKeydown: true });
}
