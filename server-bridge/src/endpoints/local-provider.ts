/**
 * The `local` serving provider: each replica is a child process on the bridge host
 * (development, small course models). The recipe's argv is spawned without a shell on a
 * free port of 127.0.0.1, in its own process group (stopped with SIGTERM, then SIGKILL),
 * with stdout/stderr in `<dir>/<replica>.log` and a `<dir>/<replica>.json` that lets a
 * restarted bridge find (adopt or stop) the replicas of the previous one.
 *
 * Replicas run as the `runAs` account (never the bridge's root), under `prlimit`
 * (address space = the replica's memory + headroom, no core dumps) and `nice`; their key
 * comes in an environment variable, which only that account and root can read
 * (`/proc/PID/environ`), never in the argv. One user's endpoints take at most
 * `maxReplicasPerUser` of the bridge's `maxReplicas` slots.
 *
 * A recipe's program that is not there yet while the machine builds it (`buildStatus`
 * says `building`) does not fail the start: the replica waits, `pending` with a sentence
 * that says so, and is spawned by the first status check that finds the program.
 */
import {
  spawn as nodeSpawn,
  type ChildProcess,
  type SpawnOptions
} from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type {
  IProviderReplica,
  IReplicaHandle,
  IReplicaSpec,
  IServingProvider,
  ReplicaStatus
} from './ports';
import { keyEnvironment, withAddress } from './recipe';

import {
  freePort,
  installed,
  killGroup,
  limitedArgv,
  logTail,
  noRoom,
  readBuildStatus,
  runs,
  type IBuildStatus,
  type ILocalAccount,
  type ILocalLimits
} from './local-processes';

export type SpawnFn = (
  program: string,
  args: readonly string[],
  options: SpawnOptions
) => ChildProcess;

export interface ILocalProviderOptions {
  /** Where logs and replica files go (created if missing). */
  dir: string;
  maxReplicas: number;
  /** Endpoints of one owner with a running replica, at most (a successor of a replica
   *  of the same endpoint does not count). */
  maxReplicasPerUser: number;
  /** The account replicas run as; unset: the bridge's own (refused when that is root). */
  runAs?: ILocalAccount;
  /** Unset: no limits (tests of the process handling). */
  limits?: ILocalLimits;
  /** child_process.spawn, replaced in tests. */
  spawn?: SpawnFn;
  /** Address replicas listen on; default 127.0.0.1. */
  host?: string;
  /** Between SIGTERM and SIGKILL; default 5000 ms. */
  stopGraceMs?: number;
  /** Milliseconds in a minute of the time limit; 60 000 except in tests. */
  minuteMs?: number;
  /** The status file of the machine's model-server build (`readBuildStatus`); unset:
   *  a missing program fails the start at once. */
  buildStatus?: string;
}

const ReplicaFileSchema = z.object({
  replicaId: z.string(),
  endpointId: z.string(),
  owner: z.string(),
  pid: z.number().int().positive(),
  host: z.string(),
  port: z.number().int().positive(),
  program: z.string(),
  startedAt: z.number(),
  endsAt: z.number()
});
type ReplicaFile = z.infer<typeof ReplicaFileSchema>;

interface IChild {
  info: ReplicaFile;
  /** Null for a replica adopted from a previous bridge process. */
  process: ChildProcess | null;
  exit: { code: number | null; signal: string | null; error?: string } | null;
  stopping: boolean;
  limitTimer: NodeJS.Timeout | null;
}

/** A replica whose program is still being built: spawned once it is there. */
interface IWaiting {
  spec: IReplicaSpec;
  program: string;
}

const REPLICA_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The panel's sentence for a replica that waits for the build. */
export function buildingDetail(build: IBuildStatus): string {
  const since = build.since === null ? '' : ` (since ${build.since})`;
  return `The model server is still being built on this machine${since}; the endpoint starts when it is ready`;
}

function buildFailed(program: string, build: IBuildStatus): string {
  return `${program} is missing: the model server's build on this machine failed${build.log === null ? '' : ` (see ${build.log})`}`;
}

export class LocalProvider implements IServingProvider {
  readonly name = 'local';
  private readonly children = new Map<string, IChild>();
  private readonly waiting = new Map<string, IWaiting>();
  private readonly host: string;
  private readonly now = Date.now;

  constructor(private readonly options: ILocalProviderOptions) {
    this.host = options.host ?? '127.0.0.1';
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  }

  private paths(replicaId: string) {
    if (!REPLICA_ID.test(replicaId)) {
      throw new Error(`invalid replica id ${JSON.stringify(replicaId)}`);
    }
    return {
      json: join(this.options.dir, `${replicaId}.json`),
      log: join(this.options.dir, `${replicaId}.log`)
    };
  }

  /** Live replicas and those waiting for their program: each holds a slot. */
  private running(): number {
    return (
      [...this.children.values()].filter(c => c.exit === null).length +
      this.waiting.size
    );
  }

  /** The endpoints of `owner` with a live (or waiting) replica here. */
  private endpointsOf(owner: string): Set<string> {
    return new Set([
      ...[...this.children.values()]
        .filter(c => c.exit === null && c.info.owner === owner)
        .map(c => c.info.endpointId),
      ...[...this.waiting.values()]
        .filter(w => w.spec.owner === owner)
        .map(w => w.spec.endpointId)
    ]);
  }

  /** The build status, when the program is missing and a build status is configured. */
  private buildOf(program: string): IBuildStatus | null {
    const file = this.options.buildStatus;
    return file === undefined || installed(program)
      ? null
      : readBuildStatus(file);
  }

  async start(spec: IReplicaSpec): Promise<IReplicaHandle> {
    if (this.running() >= this.options.maxReplicas) {
      throw noRoom(
        `At most ${this.options.maxReplicas} local replicas run at once on this bridge`
      );
    }
    const mine = this.endpointsOf(spec.owner);
    const cap = this.options.maxReplicasPerUser;
    if (!mine.has(spec.endpointId) && mine.size >= cap) {
      throw noRoom(
        `At most ${cap} endpoint${cap === 1 ? '' : 's'} of one user run on the local provider at once (maxReplicasPerUser)`
      );
    }
    const runAs = this.options.runAs;
    if (runAs === undefined ? process.getuid?.() === 0 : runAs.uid === 0) {
      throw new Error(
        'The local provider does not run replicas as root: set serving.providers.local.runAs to an unprivileged account'
      );
    }
    const paths = this.paths(spec.replicaId);
    const program = spec.argv[0];
    if (program === undefined) {
      throw new Error('empty command');
    }
    const build = this.buildOf(program);
    if (build?.state === 'building') {
      this.waiting.set(spec.replicaId, { spec, program });
      return this.waitingHandle(spec.replicaId, program);
    }
    if (build?.state === 'failed') {
      throw new Error(buildFailed(program, build));
    }
    return this.launch(spec, paths);
  }

  private waitingHandle(replicaId: string, program: string): IReplicaHandle {
    return { provider: this.name, replicaId, ref: { waitingFor: program } };
  }

  /** Spawns the replica (its slot was granted by `start`). */
  private async launch(
    spec: IReplicaSpec,
    paths: { json: string; log: string }
  ): Promise<IReplicaHandle> {
    const runAs = this.options.runAs;
    const port = await freePort(this.host);
    const argv = withAddress(spec.argv, this.host, port);
    const program = argv[0] ?? '';
    const [launcher = program, ...args] = limitedArgv(
      argv,
      spec.resources.memoryMB,
      this.options.limits
    );
    const out = openSync(paths.log, 'a', 0o600);
    let child: ChildProcess;
    try {
      child = (this.options.spawn ?? nodeSpawn)(launcher, args, {
        detached: true,
        shell: false,
        cwd: '/',
        stdio: ['ignore', out, out],
        ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          LANG: 'C.UTF-8',
          // glibc reserves 64 MiB of address space per arena; keep RLIMIT_AS meaningful
          MALLOC_ARENA_MAX: '2',
          ...(runAs === undefined
            ? {}
            : { HOME: '/', USER: runAs.name, LOGNAME: runAs.name }),
          ...spec.env,
          ...keyEnvironment(spec.keyEnv, spec.upstreamKey)
        }
      });
    } finally {
      closeSync(out);
    }
    const startedAt = this.now();
    const info: ReplicaFile = {
      replicaId: spec.replicaId,
      endpointId: spec.endpointId,
      owner: spec.owner,
      pid: child.pid ?? 0,
      host: this.host,
      port,
      program,
      startedAt,
      endsAt:
        startedAt +
        spec.resources.timeMinutes * (this.options.minuteMs ?? 60_000)
    };
    const entry: IChild = {
      info,
      process: child,
      exit: null,
      stopping: false,
      limitTimer: null
    };
    this.children.set(spec.replicaId, entry);
    child.once('error', e => {
      entry.exit ??= { code: null, signal: null, error: e.message };
    });
    child.once('exit', (code, signal) => {
      entry.exit ??= { code, signal };
      if (entry.limitTimer !== null) {
        clearTimeout(entry.limitTimer);
      }
    });
    if (child.pid === undefined) {
      // spawn failed synchronously (e.g. ENOENT): the 'error' event follows
      await new Promise(r => setImmediate(r));
      throw new Error(
        `cannot run ${program}: ${entry.exit?.error ?? 'spawn failed'}`
      );
    }
    child.unref();
    writeFileSync(paths.json, JSON.stringify(info), { mode: 0o600 });
    this.armLimit(entry);
    return this.handleOf(info);
  }

  private handleOf(info: ReplicaFile): IReplicaHandle {
    return {
      provider: this.name,
      replicaId: info.replicaId,
      ref: { pid: info.pid, port: info.port }
    };
  }

  /** The time limit, as SLURM would enforce it. */
  private armLimit(entry: IChild): void {
    const delay = Math.max(0, entry.info.endsAt - this.now());
    entry.limitTimer = setTimeout(() => {
      void this.terminate(entry, 'time limit');
    }, delay);
    entry.limitTimer.unref();
  }

  private entry(replicaId: string): IChild | undefined {
    const known = this.children.get(replicaId);
    if (known !== undefined) {
      return known;
    }
    // A replica of a previous bridge process: adopt it while it runs.
    const info = this.readFile(replicaId);
    if (info === null) {
      return undefined;
    }
    const entry: IChild = {
      info,
      process: null,
      exit: runs(info.pid, info.program) ? null : { code: null, signal: null },
      stopping: false,
      limitTimer: null
    };
    this.children.set(replicaId, entry);
    if (entry.exit === null) {
      this.armLimit(entry);
    }
    return entry;
  }

  private readFile(replicaId: string): ReplicaFile | null {
    try {
      const text = readFileSync(this.paths(replicaId).json, 'utf8');
      return ReplicaFileSchema.parse(JSON.parse(text));
    } catch {
      return null;
    }
  }

  /**
   * A waiting replica: spawned once its program is there (the controller asks every
   * tick: one access check), failed when the build failed or stopped, else pending.
   */
  private async awaited(w: IWaiting): Promise<ReplicaStatus | null> {
    const build = this.buildOf(w.program);
    if (build?.state === 'building') {
      return { state: 'pending', detail: buildingDetail(build) };
    }
    this.waiting.delete(w.spec.replicaId);
    if (build?.state === 'failed') {
      return { state: 'failed', reason: buildFailed(w.program, build) };
    }
    try {
      await this.launch(w.spec, this.paths(w.spec.replicaId));
    } catch (e) {
      return {
        state: 'failed',
        reason: `could not start: ${(e as Error).message}`
      };
    }
    return null;
  }

  async status(handle: IReplicaHandle): Promise<ReplicaStatus> {
    const w = this.waiting.get(handle.replicaId);
    if (w !== undefined) {
      const early = await this.awaited(w);
      if (early !== null) {
        return early;
      }
    }
    const entry = this.entry(handle.replicaId);
    if (entry === undefined) {
      return { state: 'gone', reason: 'unknown to the local provider' };
    }
    if (entry.exit === null && entry.process === null) {
      if (!runs(entry.info.pid, entry.info.program)) {
        entry.exit = { code: null, signal: null };
      }
    }
    if (entry.exit === null) {
      return {
        state: 'running',
        host: entry.info.host,
        port: entry.info.port,
        endsAt: new Date(entry.info.endsAt)
      };
    }
    const { code, signal, error } = entry.exit;
    const how =
      error !== undefined
        ? `could not run: ${error}`
        : signal !== null
          ? `killed by ${signal}`
          : code === null
            ? 'exited'
            : `exited with code ${code}`;
    const tail = logTail(this.paths(handle.replicaId).log);
    const reason = tail === '' ? how : `${how}: ${tail}`;
    return entry.stopping || code === 0
      ? { state: 'gone', reason }
      : { state: 'failed', reason };
  }

  async stop(handle: IReplicaHandle): Promise<void> {
    if (this.waiting.delete(handle.replicaId)) {
      return;
    }
    const entry = this.entry(handle.replicaId);
    if (entry === undefined) {
      return;
    }
    await this.terminate(entry, 'stop');
    rmSync(this.paths(handle.replicaId).json, { force: true });
  }

  private async terminate(entry: IChild, why: string): Promise<void> {
    entry.stopping = true;
    if (entry.limitTimer !== null) {
      clearTimeout(entry.limitTimer);
      entry.limitTimer = null;
    }
    const pid = entry.info.pid;
    const gone = () =>
      entry.exit !== null ||
      (entry.process === null && !runs(pid, entry.info.program));
    if (gone()) {
      return;
    }
    killGroup(pid, 'SIGTERM');
    const deadline = Date.now() + (this.options.stopGraceMs ?? 5000);
    while (!gone() && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 50));
    }
    if (!gone()) {
      killGroup(pid, 'SIGKILL');
      const hard = Date.now() + 2000;
      while (!gone() && Date.now() < hard) {
        await new Promise(r => setTimeout(r, 50));
      }
    }
    if (entry.process === null) {
      entry.exit ??= { code: null, signal: why === 'stop' ? 'SIGTERM' : null };
    }
  }

  async list(): Promise<IProviderReplica[]> {
    let names: string[];
    try {
      names = readdirSync(this.options.dir);
    } catch {
      return [];
    }
    const out: IProviderReplica[] = [...this.waiting.values()].map(w => ({
      handle: this.waitingHandle(w.spec.replicaId, w.program),
      endpointId: w.spec.endpointId,
      owner: w.spec.owner
    }));
    for (const n of names) {
      if (!n.endsWith('.json')) {
        continue;
      }
      const id = n.slice(0, -'.json'.length);
      const entry = this.entry(id);
      if (entry === undefined) {
        continue;
      }
      if (entry.exit !== null) {
        rmSync(this.paths(id).json, { force: true });
        continue;
      }
      out.push({
        handle: this.handleOf(entry.info),
        endpointId: entry.info.endpointId,
        owner: entry.info.owner
      });
    }
    return out;
  }
}
