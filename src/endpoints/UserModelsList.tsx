import type { UserModel } from '@hpc-bridge/server/contract';
import { Button } from '@jupyterlab/ui-components';
import React from 'react';
import { StorageModel } from '../storage/StorageModel';
import { DataTable } from '../ui/DataTable';
import { useTranslator } from '../ui/translator';
import type { UserModelsModel } from './UserModelsModel';

/**
 * "Your models" in the Endpoints section: the model files the user
 * registered (name, source URI, size, which endpoints serve it) with Delete.
 */
export function UserModelsList(props: {
  model: UserModelsModel;
  /** The user's endpoints that serve a model, by the model's name. */
  servedBy: (name: string) => readonly string[];
  onDelete: (model: UserModel) => void;
}): JSX.Element | null {
  const trans = useTranslator();
  const { model } = props;
  if (model.settings === null && model.models.length === 0) {
    return null;
  }
  const state = (m: UserModel): string => {
    const endpoints = props.servedBy(m.name);
    return endpoints.length === 0
      ? trans.__('registered, not served')
      : trans.__('served by %1', endpoints.join(', '));
  };
  return (
    <div
      className="jp-hpc-UserModels"
      role="group"
      aria-label={trans.__('Your models')}
      data-testid="hpc-user-models"
    >
      <div className="jp-hpc-UserModels-title">{trans.__('Your models')}</div>
      {model.error && (
        <p className="jp-hpc-Form-error" role="alert">
          {model.error.message}
        </p>
      )}
      {model.models.length === 0 ? (
        <p className="jp-hpc-Section-empty">
          {trans.__(
            'No models of your own. Right-click a .gguf file in a tier and choose Register as Model…'
          )}
        </p>
      ) : (
        <DataTable
          className="jp-hpc-UserModels-table"
          label={trans.__('Your models')}
          items={model.models}
          rowKey={m => m.name}
          rowLabel={m => m.name}
          columns={[
            { label: trans.__('Name'), value: m => <code>{m.name}</code> },
            {
              label: trans.__('Source'),
              value: m => <code title={m.uri}>{m.uri}</code>
            },
            {
              label: trans.__('Size'),
              value: m => StorageModel.formatBytes(m.sizeBytes)
            },
            { label: trans.__('State'), value: state },
            {
              label: trans.__('Actions'),
              value: m => (
                <Button
                  small
                  aria-label={trans.__('Delete model %1', m.name)}
                  disabled={model.busy(m.name)}
                  onClick={() => props.onDelete(m)}
                >
                  {trans.__('Delete')}
                </Button>
              )
            }
          ]}
        />
      )}
    </div>
  );
}
