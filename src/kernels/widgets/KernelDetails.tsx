import type { ClusterKernel } from '@hpc-bridge/server/contract';
import React from 'react';
import { useTranslator } from '../../ui/translator';
import { KernelStatus } from '../status';

/** The details of a cluster kernel, for the status bar item's dialog. */
export function KernelDetails(props: {
  kernel: ClusterKernel;
  now: number;
}): JSX.Element {
  const trans = useTranslator();
  const { kernel, now } = props;
  const r = kernel.resources;
  const resources = [
    trans._n('%1 CPU', '%1 CPUs', r.cpus),
    trans.__('%1 MB', r.memoryMB),
    ...(r.gpus > 0 ? [trans._n('%1 GPU', '%1 GPUs', r.gpus)] : []),
    trans.__('%1 min', r.timeMinutes)
  ].join(' · ');
  const rows: [string, string][] = [
    [trans.__('State'), KernelStatus.text(kernel, now, trans)],
    [trans.__('Profile'), kernel.profile],
    [trans.__('Partition'), `${kernel.partition} (${kernel.cluster})`],
    [trans.__('Resources'), resources],
    [trans.__('Node'), kernel.node ?? '–'],
    [trans.__('Job'), kernel.slurmId ?? '–']
  ];
  if (kernel.walltimeEnd !== null) {
    rows.push([
      trans.__('Walltime ends'),
      KernelStatus.clock(kernel.walltimeEnd, now)
    ]);
  }
  if (kernel.state === 'pending' && kernel.expectedStart !== null) {
    rows.push([
      trans.__('Expected start'),
      KernelStatus.clock(kernel.expectedStart, now)
    ]);
  }
  if (kernel.endedReason !== null) {
    rows.push([trans.__('Ended'), kernel.endedReason]);
  }
  return (
    <dl
      className="jp-hpc-KernelDetails"
      aria-label={trans.__('Cluster kernel details')}
    >
      {rows.map(([label, value]) => (
        <React.Fragment key={label}>
          <dt className="jp-hpc-KernelDetails-label">{label}</dt>
          <dd className="jp-hpc-KernelDetails-value">{value}</dd>
        </React.Fragment>
      ))}
    </dl>
  );
}
