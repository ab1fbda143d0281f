/**
 * One kernel poller per cluster. Each tick: the sweeper (expired leases, idle kernels),
 * then, while kernels of the cluster have not ended, ONE `squeue --json` for all of them
 * (the jobs feature's snapshot: queue positions per partition), ONE `sacct` for those
 * that left the queue, and for each kernel whose job runs but is not ready yet a read of
 * the connection file ipykernel writes (SFTP as the owner). Every 200 ms while a
 * kernel's job runs and its ipykernel starts (a second or two: the first cell waits for
 * this), every second while a kernel waits for its node, every `pollSeconds` otherwise:
 * never a query per kernel.
 */
import type { BaseLogger } from 'pino';
import type { IClusterAccess } from '../credentials/access';
import { snapshot } from '../jobs/track';
import type { IAccountingRecord, IQueuePort } from '../ports/slurm';
import { connectionFileOf, portsWritten } from './connection';
import type { KernelEvents } from './events';
import {
  isKernelTerminal,
  type IKernelRecord,
  type KernelTable
} from './repository/kernels';
import type { KernelService } from './service';
import { applyKernelTick, kernelEventWorthy } from './track';

/** What the cluster's kernels still wait for: ipykernel on a node, or the node. */
export type KernelWait = 'starting' | 'pending' | null;

export interface IKernelPollerDeps {
  cluster: string;
  queue: IQueuePort;
  service: Pick<KernelService, 'sweep'>;
  table: KernelTable;
  access: IClusterAccess;
  events: KernelEvents;
  logger: Pick<BaseLogger, 'warn' | 'debug' | 'info'>;
  /** Between ticks while every kernel runs (or none is left). */
  intervalMs: number;
  /** Between ticks while a kernel waits for its node. */
  waitingIntervalMs?: number;
  /** Between ticks while a kernel's job runs and its ipykernel is not ready yet. */
  startingIntervalMs?: number;
}

export class KernelPoller {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  /** squeue calls made, for tests. */
  queueReads = 0;
  /** Kernels whose node connection was opened ahead of their first channel. */
  private readonly prepared = new Set<string>();

  constructor(private readonly deps: IKernelPollerDeps) {}

  get started(): boolean {
    return !this.stopped;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** A tick soon (a kernel was started). */
  poke(): void {
    if (!this.running) {
      this.schedule(100);
    }
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.run(), ms).unref();
    }
  }

  private async run(): Promise<void> {
    this.running = true;
    let waiting: KernelWait = null;
    try {
      waiting = await this.tick();
    } catch (e) {
      this.deps.logger.warn(
        { cluster: this.deps.cluster, err: (e as Error).message },
        'kernel poll failed'
      );
    } finally {
      this.running = false;
    }
    this.schedule(
      waiting === 'starting'
        ? (this.deps.startingIntervalMs ?? 200)
        : waiting === 'pending'
          ? (this.deps.waitingIntervalMs ?? 1000)
          : this.deps.intervalMs
    );
  }

  /** One poll; public for tests. Resolves what a kernel still waits for, if any. */
  async tick(): Promise<KernelWait> {
    const { table, cluster, queue } = this.deps;
    await this.deps.service.sweep(cluster);
    const active = table.active(cluster);
    if (active.length === 0) {
      return null;
    }
    this.queueReads += 1;
    const snap = snapshot(await queue.queue());
    const missing = active
      .map(r => r.kernel.slurmId)
      .filter((id): id is string => id !== null && !snap.byKey.has(id));
    const accounting = new Map<string, IAccountingRecord>();
    if (missing.length > 0) {
      for (const a of await queue.accounting(missing)) {
        accounting.set(a.key, a);
      }
    }
    const now = new Date().toISOString();
    const changed: IKernelRecord[] = [];
    for (const rec of active) {
      // The record as it is now: a stop or a lease may have written it meanwhile.
      const fresh = table.get(rec.kernel.id) ?? rec;
      if (fresh.kernel.state !== rec.kernel.state) {
        continue;
      }
      let next: IKernelRecord = {
        ...fresh,
        kernel: applyKernelTick(fresh.kernel, snap, accounting)
      };
      if (next.kernel.state === 'starting') {
        next = await this.readiness(next);
      }
      if (kernelEventWorthy(next.kernel) !== kernelEventWorthy(fresh.kernel)) {
        changed.push({ ...next, kernel: { ...next.kernel, updatedAt: now } });
      }
    }
    table.updateMany(changed);
    for (const rec of changed) {
      this.deps.events.emit(rec.kernel);
      if (isKernelTerminal(rec.kernel.state)) {
        void this.removeRuntimeDir(rec);
      }
      this.deps.logger.debug(
        { kernel: rec.kernel.id, state: rec.kernel.state },
        'kernel state'
      );
    }
    const states = new Set(table.active(cluster).map(r => r.kernel.state));
    return states.has('starting')
      ? 'starting'
      : states.has('pending')
        ? 'pending'
        : null;
  }

  /** A kernel that ended by itself: its folder (connection file, sockets) goes too. */
  private async removeRuntimeDir(rec: IKernelRecord): Promise<void> {
    try {
      await this.deps.access.run(
        rec.kernel.cluster,
        rec.kernel.owner,
        async s => s.kernels?.removeDir(rec.runtimeDir)
      );
    } catch (e) {
      this.deps.logger.warn(
        { kernel: rec.kernel.id, err: (e as Error).message },
        'kernel runtime folder not removed'
      );
    }
  }

  /** `running` once ipykernel has rewritten its connection file (its sockets are bound). */
  /**
   * Once per kernel, while ipykernel starts on its node: open the way to the node (an SSH
   * handshake), so the first channel does not wait for it.
   */
  private prepareNode(rec: IKernelRecord): void {
    const { id, node, cluster, owner } = rec.kernel;
    if (node === null || this.prepared.has(id)) {
      return;
    }
    this.prepared.add(id);
    if (this.prepared.size > 10_000) {
      this.prepared.clear();
    }
    void this.deps.access
      .run(
        cluster,
        owner,
        s => s.kernels?.prepareNode?.(node) ?? Promise.resolve()
      )
      .catch((e: unknown) =>
        this.deps.logger.debug(
          { kernel: id, node, err: (e as Error).message },
          'cannot open the way to the kernel node ahead'
        )
      );
  }

  private async readiness(rec: IKernelRecord): Promise<IKernelRecord> {
    this.prepareNode(rec);
    try {
      const data = await this.deps.access.run(
        rec.kernel.cluster,
        rec.kernel.owner,
        s => s.files.readFile(connectionFileOf(rec.runtimeDir), 16_384)
      );
      const ports = portsWritten(data);
      return ports === null
        ? rec
        : { ...rec, ports, kernel: { ...rec.kernel, state: 'running' } };
    } catch (e) {
      this.deps.logger.debug(
        { kernel: rec.kernel.id, err: (e as Error).message },
        'cannot read the kernel connection file'
      );
      return rec;
    }
  }
}
