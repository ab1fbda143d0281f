import React from 'react';
import { CommandIDs } from '../commands';
import { hpcBridgeIcon } from '../icons';
import { optionalSectionPlugin } from '../ui/sectionPlugin';
// The Admin section must exist when the panel opens: loaded with the plugin.
import { AdminModel } from './AdminModel';
import { AdminSection } from './AdminSection';
import { AdminApi } from './api';

/**
 * The Admin section of the panel, shown to hub admins only: every user's jobs and
 * endpoints, tier usage, usage per user or group, backend health, the audit search.
 */
export const adminPlugin = optionalSectionPlugin({
  id: 'jupyterlab-hpc-bridge:admin',
  description:
    'The Admin section of the HPC Bridge panel (hub admins only): all jobs, endpoints and tier usage, usage per user and course, backend health over 24 h, and the audit log with search and JSONL/CSV export.',
  rank: 900,
  model: client => new AdminModel({ api: new AdminApi(client) }),
  section: trans => ({
    className: 'jp-hpc-AdminSectionWidget',
    label: trans.__('Admin'),
    isShown: m => m.isAdmin === true,
    render: m => React.createElement(AdminSection, { model: m })
  }),
  page: trans => ({
    command: CommandIDs.openAdmin,
    namespace: 'hpc-bridge-admin',
    id: 'jp-hpc-admin-page',
    className: 'jp-hpc-AdminPageWidget',
    label: trans.__('Open the Admin Page'),
    title: trans.__('HPC Admin'),
    caption: trans.__('Open the Admin views in the main area'),
    icon: hpcBridgeIcon,
    unavailable: trans.__('Only hub admins see the Admin views.')
  })
});
