/**
 * Cluster kernels: a notebook's ipykernel as a SLURM job of its owner, submitted over
 * the owner's SSH connection with the profile's limits and the data-class rules of batch
 * jobs; its channels are relayed by the bridge (see routes/kernels.ts). Owner only:
 * another user's kernel answers 404.
 */
import type { BaseLogger } from 'pino';
import type { IAuthUser } from '../auth/decide';
import type { BridgeConfig, ProfileConfig } from '../config';
import type {
  ClusterKernel,
  KernelChannel,
  KernelLease,
  KernelSpec,
  KernelStart
} from '../contract';
import type { CourseJobGate, ICourseProfile } from '../courses/job-gate';
import type { IClusterAccess } from '../credentials/access';
import { DomainError } from '../domain-error';
import { resolveResources } from '../jobs/request-checks';
import { newJobId, sbatchRefusal } from '../jobs/submission';
import {
  checkJobPolicy,
  checkReachable,
  tierEnvironment,
  type ITierUse
} from '../policy/data-classes';
import type { KernelScript } from '../ports/slurm';
import { LOCAL_REPLICA } from '../replicas/liveness';
import type { Store } from '../store';
import {
  resolveTierUsesAudited,
  tierUseAuditor,
  type TierUseAuditor
} from '../storage/tier-use-audit';
import {
  connectionFile,
  connectionFileOf,
  kernelPort,
  MAX_SOCKET_PATH,
  socketPath
} from './connection';
import { KernelActivity } from './activity';
import type { KernelEvents } from './events';
import {
  isKernelTerminal,
  KernelTable,
  type IKernelRecord
} from './repository/kernels';

export interface IKernelServiceDeps {
  config: BridgeConfig;
  store: Store;
  access: IClusterAccess;
  script: KernelScript;
  /** The course profiles offered as kernels and their per-student limits. */
  courses?: CourseJobGate;
  events: KernelEvents;
  logger: Pick<BaseLogger, 'info' | 'warn'>;
  /** Asks the cluster's kernel poller for an early tick (after a start). */
  poke?: (cluster: string) => void;
  /** This replica, and since when (epoch ms) a replica seen is alive (default: only this one). */
  replica?: string;
  aliveSince?: () => number;
  now?: () => number;
}

/** Where kernels' runtime folders live, relative to the owner's home. */
export const KERNELS_ROOT = '.hpc-bridge/kernels';

export class KernelService {
  readonly table: KernelTable;
  private readonly auditUses: TierUseAuditor;
  /** Relayed shell/stdin traffic, this replica's and the others'. */
  private readonly activity: KernelActivity;
  /**
   * When this bridge started: leases and idle time count from here at the earliest, so a
   * bridge that was down longer than `leaseSeconds` does not cancel every kernel.
   */
  private readonly since: number;

  constructor(private readonly deps: IKernelServiceDeps) {
    this.since = deps.now?.() ?? Date.now();
    this.table = new KernelTable(deps.store);
    this.activity = new KernelActivity({
      store: deps.store,
      replica: deps.replica ?? LOCAL_REPLICA,
      ...(deps.aliveSince === undefined ? {} : { aliveSince: deps.aliveSince }),
      now: () => this.now(),
      onError: e => deps.logger.warn({ err: e }, 'kernel activity not written')
    });
    this.auditUses = tierUseAuditor(deps.store, 'job.uses-tier');
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** The admin's profiles enabled for kernels (`kernels.profiles`). */
  private kernelProfiles(): ProfileConfig[] {
    const enabled = new Set(this.deps.config.kernels.profiles);
    return this.deps.config.profiles.filter(p => enabled.has(p.name));
  }

  /** The admin's kernel profiles, then those the user's courses offer as kernels. */
  private offeredTo(
    user: IAuthUser
  ): (ProfileConfig & { course?: ICourseProfile })[] {
    return [
      ...this.kernelProfiles(),
      ...(this.deps.courses?.kernelProfilesFor(user) ?? []).map(course => ({
        ...course,
        course
      }))
    ];
  }

  specs(user: IAuthUser): KernelSpec[] {
    return this.offeredTo(user).map(p => ({
      // Jupyter's kernel names are [a-z0-9._-]: `course:ml101` → `hpcb-course-ml101`.
      name: `hpcb-${p.name.replace(/[^A-Za-z0-9._-]/g, '-')}`,
      displayName: `Python 3 on cluster — ${p.title}`,
      profile: p.name,
      language: 'python'
    }));
  }

  /** Submits the kernel's job as `user`; answers it `pending`. */
  async start(user: IAuthUser, req: KernelStart): Promise<ClusterKernel> {
    const offered = this.offeredTo(user);
    const profile = offered.find(p => p.name === req.profile);
    if (profile === undefined) {
      throw new DomainError(
        'bad_request',
        `Profile "${req.profile}" is not offered to you as a cluster kernel`,
        { profiles: offered.map(p => p.name) }
      );
    }
    const resources = resolveResources(profile, req.resources);
    const cluster = this.deps.config.clusters.find(
      c => c.name === profile.cluster
    );
    if (cluster === undefined) {
      throw new DomainError(
        'internal',
        `profile names unknown cluster ${profile.cluster}`
      );
    }
    const id = newJobId();
    const where = {
      kernel: id,
      profile: profile.name,
      partition: profile.partition
    };
    const uses = resolveTierUsesAudited(
      this.deps.config,
      this.deps.store,
      user,
      req.tiers ?? [],
      'job.uses-tier',
      where
    );
    checkReachable(uses, cluster.name, `a kernel on cluster ${cluster.name}`);
    try {
      checkJobPolicy(uses, cluster, profile.partition);
    } catch (e) {
      this.auditUses(user, uses, 'refused', {
        ...where,
        reason: (e as Error).message
      });
      throw e;
    }
    // A course kernel counts against the student's course limits like a course job.
    const admission = this.deps.courses?.admit(
      user,
      profile.course ?? null,
      resources,
      1
    );
    const submitted = this.deps.access.run(cluster.name, user.name, async s => {
      const runtimeDir = `${(await s.files.home()).replace(/\/+$/, '')}/${KERNELS_ROOT}/${id}`;
      if (socketPath(runtimeDir, 5).length > MAX_SOCKET_PATH) {
        throw new DomainError(
          'bad_request',
          `The kernel's sockets would be longer than ${MAX_SOCKET_PATH} bytes (in ${runtimeDir}); Unix sockets cannot have such paths`
        );
      }
      const kernels = kernelPort(s, cluster.name);
      await s.files.writeAll(
        [runtimeDir],
        [
          {
            path: connectionFileOf(runtimeDir),
            data: connectionFile(runtimeDir, req.connection),
            mode: 0o600
          }
        ]
      );
      const script = this.deps.script({
        jobName: `hpcb-kernel-${id}`,
        runtimeDir,
        connectionFile: connectionFileOf(runtimeDir),
        partition: profile.partition,
        resources,
        python: cluster.jobs.python,
        env: { ...tierEnvironment(uses), HPCB_KERNEL_ID: id },
        reservation: profile.course?.reservation ?? null
      });
      try {
        return {
          runtimeDir,
          slurmId: await kernels.submitScript(script, runtimeDir)
        };
      } catch (e) {
        await kernels.removeDir(runtimeDir).catch(() => undefined);
        if ((e as { stage?: unknown }).stage !== undefined) {
          throw e;
        }
        throw sbatchRefusal(cluster.name, e);
      }
    });
    const { runtimeDir, slurmId } = await (admission?.until(submitted) ??
      submitted);
    const at = new Date(this.now()).toISOString();
    const kernel: ClusterKernel = {
      id,
      owner: user.name,
      jupyterKernelId: req.jupyterKernelId,
      profile: profile.name,
      cluster: cluster.name,
      partition: profile.partition,
      resources,
      state: 'pending',
      slurmId,
      node: null,
      pendingReason: null,
      queuePosition: null,
      expectedStart: null,
      walltimeEnd: null,
      endedReason: null,
      ...(uses.length === 0 ? {} : { tiers: uses.map(u => u.ref) }),
      createdAt: at,
      lastActivity: at,
      updatedAt: at
    };
    this.table.insert({
      kernel,
      runtimeDir,
      leaseUntil: this.leaseEnd(),
      ports: null
    });
    admission?.recorded(id);
    this.auditStart(user, kernel, uses);
    this.deps.events.emit(kernel);
    this.deps.poke?.(cluster.name);
    return kernel;
  }

  private auditStart(
    user: IAuthUser,
    kernel: ClusterKernel,
    uses: readonly ITierUse[]
  ): void {
    this.deps.store.audit({
      user: user.name,
      action: 'kernel.start',
      target: kernel.id,
      details: {
        cluster: kernel.cluster,
        slurmId: kernel.slurmId,
        profile: kernel.profile,
        jupyterKernelId: kernel.jupyterKernelId,
        resources: kernel.resources
      }
    });
    this.auditUses(user, uses, 'ok', {
      kernel: kernel.id,
      slurmId: kernel.slurmId,
      profile: kernel.profile,
      partition: kernel.partition
    });
  }

  private leaseEnd(): string {
    return new Date(
      this.now() + this.deps.config.kernels.leaseSeconds * 1000
    ).toISOString();
  }

  /** The kernel's record if `user` owns it; 404 otherwise, so ids of others do not leak. */
  record(user: IAuthUser, id: string): IKernelRecord {
    const rec = this.table.get(id);
    if (rec === undefined || rec.kernel.owner !== user.name) {
      throw new DomainError('not_found', `No kernel ${id}`);
    }
    return rec;
  }

  get(user: IAuthUser, id: string): ClusterKernel {
    return this.withActivity(this.record(user, id).kernel);
  }

  list(user: IAuthUser): ClusterKernel[] {
    return this.table.byOwner(user.name).map(r => this.withActivity(r.kernel));
  }

  /** Every kernel that has not ended (admins). */
  listActive(): ClusterKernel[] {
    return this.table.active().map(r => this.withActivity(r.kernel));
  }

  private withActivity(kernel: ClusterKernel): ClusterKernel {
    const at = this.activity.lastRelayed(kernel.id);
    return at === undefined
      ? kernel
      : { ...kernel, lastActivity: new Date(at).toISOString() };
  }

  /** The launcher's heartbeat: extends the lease; 409 once the kernel has ended. */
  lease(user: IAuthUser, id: string): KernelLease {
    const rec = this.record(user, id);
    if (isKernelTerminal(rec.kernel.state)) {
      throw new DomainError(
        'conflict',
        `Kernel ${id} has ended (${rec.kernel.state}: ${rec.kernel.endedReason ?? 'no reason'})`,
        { state: rec.kernel.state, endedReason: rec.kernel.endedReason }
      );
    }
    const leaseUntil = this.leaseEnd();
    this.table.update({ ...rec, leaseUntil });
    return { state: rec.kernel.state, leaseUntil };
  }

  /** Shutdown by its owner: scancel, the runtime folder removed; answers the kernel. */
  async stop(user: IAuthUser, id: string): Promise<ClusterKernel> {
    const rec = this.record(user, id);
    if (isKernelTerminal(rec.kernel.state)) {
      return rec.kernel;
    }
    const kernel = await this.end(rec, 'stopped by its owner');
    this.deps.store.audit({
      user: user.name,
      action: 'kernel.stop',
      target: id,
      details: { slurmId: kernel.slurmId, state: rec.kernel.state }
    });
    return kernel;
  }

  /**
   * Cancels the job as its owner and removes the runtime folder (best effort: a job that
   * ended meanwhile is fine), then stores the kernel `cancelled` with `reason`.
   */
  private async end(
    rec: IKernelRecord,
    reason: string
  ): Promise<ClusterKernel> {
    const { kernel } = rec;
    await this.deps.access
      .run(kernel.cluster, kernel.owner, async s => {
        if (kernel.slurmId !== null) {
          await s.slurm.cancel(kernel.slurmId).catch((e: unknown) => {
            this.deps.logger.warn(
              { kernel: kernel.id, err: (e as Error).message },
              'scancel of a kernel failed'
            );
          });
        }
        await s.kernels?.removeDir(rec.runtimeDir);
      })
      .catch((e: unknown) => {
        this.deps.logger.warn(
          { kernel: kernel.id, err: (e as Error).message },
          'kernel not cleaned up on the cluster'
        );
      });
    const current = this.table.get(kernel.id) ?? rec;
    const next: ClusterKernel = {
      ...this.withActivity(current.kernel),
      state: 'cancelled',
      endedReason: reason,
      pendingReason: null,
      queuePosition: null,
      expectedStart: null,
      updatedAt: new Date(this.now()).toISOString()
    };
    this.table.update({ ...current, kernel: next });
    this.activity.forget(kernel.id);
    this.deps.events.emit(next);
    this.deps.logger.info(
      { kernel: kernel.id, owner: kernel.owner, reason },
      'kernel ended'
    );
    return next;
  }

  /**
   * Cancels kernels (of `cluster`: its poller's own) whose launcher's lease expired (the
   * launcher or the user's server died) and running kernels idle for `idleMinutes`.
   */
  async sweep(cluster?: string): Promise<number> {
    const now = this.now();
    const { idleMinutes, leaseSeconds } = this.deps.config.kernels;
    const seen = this.activity.seen();
    let n = 0;
    for (const rec of this.table.active(cluster)) {
      const id = rec.kernel.id;
      const last = Math.max(
        Date.parse(rec.kernel.lastActivity),
        seen.get(id)?.lastAt ?? 0,
        this.since
      );
      const leaseEnd = Math.max(
        Date.parse(rec.leaseUntil),
        this.since + leaseSeconds * 1000
      );
      const idle =
        rec.kernel.state === 'running' &&
        seen.get(id)?.busy !== true &&
        now - last >= idleMinutes * 60_000;
      const reason =
        leaseEnd < now
          ? "the launcher's lease expired (its notebook server is gone)"
          : idle
            ? `idle for ${idleMinutes} minutes`
            : null;
      if (reason === null) {
        continue;
      }
      n += 1;
      await this.end(rec, reason);
      this.deps.store.audit({
        user: rec.kernel.owner,
        action: 'kernel.cull',
        target: rec.kernel.id,
        details: { slurmId: rec.kernel.slurmId, reason }
      });
    }
    this.activity.record(this.table, seen, now);
    return n;
  }

  /**
   * Relayed shell or stdin traffic: the kernel is in use. A shell `request` (to the
   * kernel) makes it busy until a shell `reply` (from it) comes back.
   */
  touch(id: string, shell?: 'request' | 'reply'): void {
    this.activity.touch(id, shell);
  }

  /**
   * Where channel `channel` of the kernel is (its owner only: 404 to others); 409 until
   * the kernel runs.
   */
  channel(
    user: IAuthUser,
    id: string,
    channel: KernelChannel
  ): { cluster: string; owner: string; node: string | null; path: string } {
    const rec = this.record(user, id);
    if (rec.kernel.state !== 'running' || rec.ports === null) {
      throw new DomainError(
        'conflict',
        `Kernel ${id} is ${rec.kernel.state}, not running`,
        { state: rec.kernel.state }
      );
    }
    return {
      cluster: rec.kernel.cluster,
      owner: rec.kernel.owner,
      node: rec.kernel.node,
      path: socketPath(rec.runtimeDir, rec.ports[channel])
    };
  }

  /** Opens channel `channel` as the kernel's owner over their SSH connection. */
  async openChannel(user: IAuthUser, id: string, channel: KernelChannel) {
    const target = this.channel(user, id, channel);
    return this.deps.access.run(target.cluster, target.owner, async s => {
      try {
        return await kernelPort(s, target.cluster).openSocket(
          target.path,
          target.node
        );
      } catch (e) {
        // The connection itself failed (503 from `run`), or nothing listens there.
        if ((e as { stage?: unknown }).stage !== 'exec') {
          throw e;
        }
        throw new DomainError(
          'conflict',
          `Kernel ${id} does not listen on its ${channel} socket (it has stopped or is restarting)`,
          { state: this.table.get(id)?.kernel.state ?? 'unknown' }
        );
      }
    });
  }
}
