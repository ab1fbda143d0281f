import type { Partition } from '../contract';

/** What the bridge needs from a SLURM cluster (for now: reads). */
export interface ISlurmPort {
  /** Partitions with node/CPU/GPU totals and idle counts. */
  partitions(): Promise<Partition[]>;
  /** Checks the transport (`ssh`) and the controller (`slurmctld`) separately. */
  ping(): Promise<ISlurmPing>;
  /** Releases connections; the port may be used again afterwards. */
  close(): Promise<void>;
}

export interface ISlurmPing {
  ssh: { ok: boolean; detail?: string };
  slurmctld: { ok: boolean; detail?: string };
}
