import React from 'react';
import type { AdminModel } from './AdminModel';
import { DataTable } from '../ui/DataTable';
import { when } from '../ui/OptionalSection';
import { useTranslator } from '../ui/translator';

/** The Admin section's cluster kernels: every user's kernel that has not ended. */
export function KernelsView(props: { model: AdminModel }): JSX.Element {
  const trans = useTranslator();
  const kernels = props.model.kernels;
  if (kernels === null) {
    return <p className="jp-hpc-Section-empty">{trans.__('Loading…')}</p>;
  }
  return (
    <div className="jp-hpc-Admin-view">
      {kernels.length === 0 ? (
        <p className="jp-hpc-Section-empty">
          {trans.__('No cluster kernels are running.')}
        </p>
      ) : (
        <DataTable
          className="jp-hpc-Admin-table"
          label={trans.__('Cluster kernels')}
          columns={[
            { label: trans.__('User'), value: k => k.owner },
            { label: trans.__('Profile'), value: k => k.profile },
            { label: trans.__('Node'), value: k => k.node ?? '–' },
            { label: trans.__('Job'), value: k => k.slurmId ?? '–' },
            { label: trans.__('Since'), value: k => when(k.createdAt) },
            {
              label: trans.__('State'),
              value: k => k.state,
              className: k => `jp-hpc-Admin-state jp-mod-${k.state}`
            }
          ]}
          items={kernels}
          rowKey={k => k.id}
          rowTitle={k =>
            trans.__(
              '%1 on %2 (%3), last activity %4',
              k.id,
              k.partition,
              k.cluster,
              when(k.lastActivity)
            )
          }
        />
      )}
    </div>
  );
}
