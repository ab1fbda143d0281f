/**
 * The command ids of this extension.
 */
export namespace CommandIDs {
  export const openPanel = 'hpc-bridge:open-panel';
  export const refreshClusters = 'hpc-bridge:refresh-clusters';
  export const submitNotebook = 'hpc-bridge:submit-notebook';
  export const submitFile = 'hpc-bridge:submit-file';
  export const runSelectedCells = 'hpc-bridge:run-selected-cells';
  export const openJobs = 'hpc-bridge:open-jobs';
  export const refreshJobs = 'hpc-bridge:refresh-jobs';
  export const openJobsPage = 'hpc-bridge:open-jobs-page';
  export const openJob = 'hpc-bridge:open-job';
  export const openAdmin = 'hpc-bridge:open-admin';
  export const openCourse = 'hpc-bridge:open-course';
  export const mountTier = 'hpc-bridge:mount-tier';
  export const uploadToTier = 'hpc-bridge:upload-to-tier';
  export const shareLink = 'hpc-bridge:share-link';
  export const copyToTier = 'hpc-bridge:copy-to-tier';
  export const useInCode = 'hpc-bridge:use-in-code';
  export const refreshStorage = 'hpc-bridge:refresh-storage';
  export const createEndpoint = 'hpc-bridge:create-endpoint';
  export const refreshEndpoints = 'hpc-bridge:refresh-endpoints';
  export const createTrigger = 'hpc-bridge:create-trigger';
  export const refreshPipelines = 'hpc-bridge:refresh-pipelines';
  export const showLineage = 'hpc-bridge:show-lineage';
  export const registerModel = 'hpc-bridge:register-model';
  export const openChat = 'hpc-bridge:open-chat';
  export const explainError = 'hpc-bridge:explain-error';
  export const chooseAssistantEndpoint = 'hpc-bridge:choose-assistant-endpoint';
  export const toggleInlineCompletion = 'hpc-bridge:toggle-inline-completion';
}

/** The `describedBy` of a command without arguments. */
export const NO_ARGS = { args: { type: 'object', properties: {} } } as const;
