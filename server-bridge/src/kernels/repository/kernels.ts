/** The `kernels` table: each cluster kernel's contract JSON, its lease and runtime folder. */
import { z } from 'zod';
import {
  ClusterKernelSchema,
  KernelChannelSchema,
  TERMINAL_KERNEL_STATES,
  type ClusterKernel,
  type KernelChannel,
  type KernelState
} from '../../contract';
import type { Store } from '../../store';

/** The socket number (`<runtime dir>/k-<n>`) of each channel, as ipykernel wrote them. */
export type KernelPorts = Record<KernelChannel, number>;

export interface IKernelRecord {
  kernel: ClusterKernel;
  /** Absolute path of the kernel's 0700 folder in the owner's cluster account. */
  runtimeDir: string;
  /** The launcher's lease: past it, the sweeper cancels the kernel. */
  leaseUntil: string;
  /** Known once ipykernel has written its connection file. */
  ports: KernelPorts | null;
}

const RowSchema = z.object({
  lease_until: z.string(),
  runtime_dir: z.string(),
  record: z.string()
});

const StoredSchema = z.object({
  kernel: ClusterKernelSchema,
  ports: z.record(KernelChannelSchema, z.number().int()).nullable()
});

export const isKernelTerminal = (s: KernelState): boolean =>
  TERMINAL_KERNEL_STATES.includes(s);

export class KernelTable {
  constructor(private readonly store: Store) {}

  private parse(row: unknown): IKernelRecord {
    const r = RowSchema.parse(row);
    const stored = StoredSchema.parse(JSON.parse(r.record));
    return {
      kernel: stored.kernel,
      runtimeDir: r.runtime_dir,
      leaseUntil: r.lease_until,
      ports: stored.ports as KernelPorts | null
    };
  }

  private static record(rec: IKernelRecord): string {
    return JSON.stringify({ kernel: rec.kernel, ports: rec.ports });
  }

  insert(rec: IKernelRecord): void {
    const k = rec.kernel;
    this.store.db
      .prepare(
        `INSERT INTO kernels (id, owner, cluster, state, terminal, created_at, lease_until,
           runtime_dir, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        k.id,
        k.owner,
        k.cluster,
        k.state,
        isKernelTerminal(k.state) ? 1 : 0,
        k.createdAt,
        rec.leaseUntil,
        rec.runtimeDir,
        KernelTable.record(rec)
      );
  }

  /** Writes the record's kernel, ports and lease (several in one transaction). */
  updateMany(recs: readonly IKernelRecord[]): void {
    if (recs.length === 0) {
      return;
    }
    const db = this.store.db;
    const statement = db.prepare(
      'UPDATE kernels SET state = ?, terminal = ?, lease_until = ?, record = ? WHERE id = ?'
    );
    db.transaction(() => {
      for (const rec of recs) {
        statement.run(
          rec.kernel.state,
          isKernelTerminal(rec.kernel.state) ? 1 : 0,
          rec.leaseUntil,
          KernelTable.record(rec),
          rec.kernel.id
        );
      }
    })();
  }

  update(rec: IKernelRecord): void {
    this.updateMany([rec]);
  }

  get(id: string): IKernelRecord | undefined {
    const row = this.store.db
      .prepare('SELECT * FROM kernels WHERE id = ?')
      .get(id);
    return row === undefined ? undefined : this.parse(row);
  }

  byIds(ids: readonly string[]): IKernelRecord[] {
    return this.store.db
      .prepare(
        'SELECT * FROM kernels WHERE id IN (SELECT value FROM json_each(?)) ORDER BY created_at'
      )
      .all(JSON.stringify(ids))
      .map(r => this.parse(r));
  }

  /** The owner's kernels, newest first (ended ones too, the last 100). */
  byOwner(owner: string): IKernelRecord[] {
    return this.store.db
      .prepare(
        'SELECT * FROM kernels WHERE owner = ? ORDER BY created_at DESC LIMIT 100'
      )
      .all(owner)
      .map(r => this.parse(r));
  }

  /** Kernels that have not ended, of one cluster or all. */
  active(cluster?: string): IKernelRecord[] {
    const rows =
      cluster === undefined
        ? this.store.db
            .prepare(
              'SELECT * FROM kernels WHERE terminal = 0 ORDER BY created_at'
            )
            .all()
        : this.store.db
            .prepare(
              'SELECT * FROM kernels WHERE terminal = 0 AND cluster = ? ORDER BY created_at'
            )
            .all(cluster);
    return rows.map(r => this.parse(r));
  }
}
