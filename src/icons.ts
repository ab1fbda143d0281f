import { LabIcon } from '@jupyterlab/ui-components';
import bridgeSvg from '../style/icons/hpc-bridge.svg';

/** The HPC Bridge icon (side panel tab, status bar). */
export const hpcBridgeIcon = new LabIcon({
  name: 'jupyterlab-hpc-bridge:icon',
  svgstr: bridgeSvg
});
