/** The batch scripts of this adapter, as the domain's port. */
import type { IBatchScripts } from '../../ports/slurm';
import { renderBatchScript } from './batch-script';
import { renderReplicaScript } from './replica-script';
import { exportLines } from './sbatch-header';

export const sshBatchScripts: IBatchScripts = {
  notebookJob: renderBatchScript,
  replica: renderReplicaScript,
  secretEnv: env => [...exportLines('secrets file', env), ''].join('\n')
};
