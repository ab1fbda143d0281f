import type { Cluster, Partition } from '@hpc-bridge/server/contract';
import { checkIcon, Table } from '@jupyterlab/ui-components';
import React from 'react';
import { Alert } from '../ui/Alert';
import { Section } from '../ui/Section';
import { useTranslator } from '../ui/translator';

/**
 * The **Cluster** section: per cluster a table of partitions with free
 * resources, or why they cannot be shown.
 */
export function ClusterSection(props: ClusterSection.IProps): JSX.Element {
  const trans = useTranslator();
  const { clusters, error, loading, updated } = props;
  const stale = error !== null && clusters.length > 0;
  return (
    <Section
      id="cluster"
      title={trans.__('Cluster')}
      refreshLabel={trans.__('Refresh the cluster status')}
      onRefresh={() => void props.onRetry()}
    >
      {error && <Alert message={error.message} onRetry={props.onRetry} />}
      {loading && !error ? (
        <ClusterSection.Loading />
      ) : (
        <div
          className={
            stale ? 'jp-hpc-ClusterList jp-mod-stale' : 'jp-hpc-ClusterList'
          }
        >
          {!error && clusters.length === 0 && (
            <p className="jp-hpc-Section-empty">
              {trans.__('The bridge has no clusters configured.')}
            </p>
          )}
          {clusters.map(cluster => (
            <ClusterSection.ClusterView key={cluster.name} cluster={cluster} />
          ))}
          {updated && (
            <p className="jp-hpc-Section-footer">
              {stale
                ? trans.__(
                    'Showing data from %1.',
                    updated.toLocaleTimeString()
                  )
                : trans.__('Updated %1.', updated.toLocaleTimeString())}
            </p>
          )}
        </div>
      )}
    </Section>
  );
}

export namespace ClusterSection {
  export interface IProps {
    clusters: readonly Cluster[];
    error: Error | null;
    loading: boolean;
    updated: Date | null;
    onRetry: () => Promise<void>;
  }

  /**
   * A placeholder while the first answer is awaited.
   */
  export function Loading(): JSX.Element {
    const trans = useTranslator();
    return (
      <div className="jp-hpc-Loading" role="status" aria-live="polite">
        <div className="jp-hpc-Loading-bar" aria-hidden="true" />
        <div className="jp-hpc-Loading-bar" aria-hidden="true" />
        <span className="jp-hpc-Loading-text">{trans.__('Loading…')}</span>
      </div>
    );
  }

  /**
   * One cluster: its title, status, error and partition table.
   */
  export function ClusterView(props: { cluster: Cluster }): JSX.Element {
    const trans = useTranslator();
    const { cluster } = props;
    const statusLabel: Record<Cluster['status'], string> = {
      ok: trans.__('Online'),
      degraded: trans.__('Degraded'),
      down: trans.__('Down')
    };
    return (
      <div
        className={`jp-hpc-Cluster jp-mod-${cluster.status}`}
        role="group"
        aria-label={cluster.title}
        data-cluster={cluster.name}
      >
        <h4 className="jp-hpc-Cluster-title">
          <span className="jp-hpc-Cluster-name">{cluster.title}</span>
          <span className={`jp-hpc-Cluster-status jp-mod-${cluster.status}`}>
            {statusLabel[cluster.status]}
          </span>
        </h4>
        {cluster.error && (
          <div className="jp-hpc-Alert jp-mod-warning" role="alert">
            <p className="jp-hpc-Alert-message">
              {trans.__(
                'Cluster %1 cannot be queried: %2',
                cluster.title,
                cluster.error
              )}
            </p>
          </div>
        )}
        {cluster.partitions.length > 0 ? (
          <PartitionTable partitions={cluster.partitions} />
        ) : (
          !cluster.error && (
            <p className="jp-hpc-Section-empty">
              {trans.__('This cluster has no partitions.')}
            </p>
          )
        )}
      </div>
    );
  }

  /**
   * The partitions of one cluster, sortable by column.
   */
  export function PartitionTable(props: {
    partitions: readonly Partition[];
  }): JSX.Element {
    const trans = useTranslator();
    const columns: Table.IColumn<Partition>[] = [
      {
        id: 'name',
        label: trans.__('Partition'),
        renderCell: partition => (
          <span className="jp-hpc-PartitionTable-name">
            {partition.name}
            {partition.default && (
              <span
                className="jp-hpc-PartitionTable-default"
                role="img"
                title={trans.__('Default partition')}
                aria-label={trans.__('default partition')}
              >
                <checkIcon.react tag="span" />
              </span>
            )}
          </span>
        ),
        sort: (a, b) => a.name.localeCompare(b.name)
      },
      {
        id: 'state',
        label: trans.__('State'),
        renderCell: partition => (
          <span
            className={`jp-hpc-PartitionTable-state jp-mod-${partition.state.replace(/[^A-Za-z0-9-]/g, '')}`}
          >
            {partition.state}
          </span>
        ),
        sort: (a, b) => a.state.localeCompare(b.state)
      },
      {
        id: 'nodes',
        label: trans.__('Nodes'),
        renderCell: partition => fraction(partition.nodes),
        sort: (a, b) => a.nodes.idle - b.nodes.idle
      },
      {
        id: 'cpus',
        label: trans.__('CPUs'),
        renderCell: partition => fraction(partition.cpus),
        sort: (a, b) => a.cpus.idle - b.cpus.idle
      },
      {
        id: 'gpus',
        label: trans.__('GPUs'),
        renderCell: partition => fraction(partition.gpus),
        sort: (a, b) => a.gpus.idle - b.gpus.idle
      }
    ];
    return (
      // Focusable: it scrolls sideways in a narrow panel.
      <div
        className="jp-hpc-PartitionTable"
        role="region"
        aria-label={trans.__('Partitions')}
        tabIndex={0}
      >
        <Table
          columns={columns}
          rows={props.partitions.map(partition => ({
            key: partition.name,
            data: partition
          }))}
          blankIndicator={() => null}
        />
        <p className="jp-hpc-PartitionTable-legend">
          {trans.__('Nodes, CPUs and GPUs: free (idle) / total.')}
        </p>
      </div>
    );
  }

  function fraction(count: { idle: number; total: number }): string {
    return `${count.idle} / ${count.total}`;
  }
}
