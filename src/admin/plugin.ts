import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import React from 'react';
// The Admin section must exist when the panel opens: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AdminModel } from './AdminModel';
import { IBridgeClient, IBridgePanel } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AdminSection } from './AdminSection';
import { OptionalSectionWidget } from '../ui/OptionalSection';
import { TRANSLATION_DOMAIN } from '../ui/translator';
import { AdminApi } from './api';

/**
 * The Admin section of the panel, shown to hub admins only: every user's jobs and
 * endpoints, tier usage, usage per user or group, backend health, the audit search.
 */
export const adminPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:admin',
  description:
    'The Admin section of the HPC Bridge panel (hub admins only): all jobs, endpoints and tier usage, usage per user and course, backend health over 24 h, and the audit log with search and JSONL/CSV export.',
  autoStart: true,
  requires: [IBridgeClient],
  optional: [IBridgePanel, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    panel: IBridgePanel | null,
    translator: ITranslator | null
  ): void => {
    if (!panel) {
      return;
    }
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const model = new AdminModel({ api: new AdminApi(client) });
    void app.restored.then(() => model.start());
    const section = new OptionalSectionWidget({
      model,
      trans,
      className: 'jp-hpc-AdminSectionWidget',
      label: trans.__('Admin'),
      isShown: m => m.isAdmin === true,
      render: m => React.createElement(AdminSection, { model: m })
    });
    panel.addSection(section, { rank: 900 });
  }
};
