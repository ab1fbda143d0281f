import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { adminPlugin } from './admin/plugin';
import { assistantPlugin } from './assistant/plugin';
import { panelPlugin } from './cluster/plugin';
import { corePlugin } from './core/plugin';
import { coursePlugin } from './courses/plugin';
import { endpointsPlugin } from './endpoints/plugin';
import { jobsPlugin } from './jobs/plugin';
import { kernelsPlugin } from './kernels/plugin';
import { lineagePlugin } from './lineage/plugin';
import { pipelinesPlugin } from './pipelines/plugin';
import { statusPlugin } from './status/plugin';
import { shareFilePlugin } from './storage/shareFile';
import { storagePlugin } from './storage/plugin';

export { BridgeClient } from './core/client';
export { BridgeRequestError } from './transport/errors';
export { CommandIDs } from './commands';
export { Bridge, IBridgeClient, IBridgePanel, ITierFilePicker } from './tokens';

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  corePlugin,
  statusPlugin,
  panelPlugin,
  jobsPlugin,
  kernelsPlugin,
  storagePlugin,
  shareFilePlugin,
  endpointsPlugin,
  pipelinesPlugin,
  lineagePlugin,
  coursePlugin,
  assistantPlugin,
  adminPlugin
];

export default plugins;
