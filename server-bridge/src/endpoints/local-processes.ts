/**
 * The processes of the local provider: free ports, log tails, process groups, the Unix
 * account replicas run as and the limits (`prlimit`, `nice`) their argv runs under.
 */
import { execFileSync } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  openSync,
  readFileSync,
  readSync,
  fstatSync
} from 'node:fs';
import { createServer } from 'node:net';

/** The Unix account replicas run as. */
export interface ILocalAccount {
  name: string;
  uid: number;
  gid: number;
}

/** Limits every replica gets (through `prlimit` and `nice`, which exec the recipe). */
export interface ILocalLimits {
  /** Added to the replica's memoryMB for its address-space limit (RLIMIT_AS counts
   *  reserved virtual memory: thread stacks, malloc arenas, the mapped model). */
  memoryHeadroomMB: number;
  /** `nice` increment, 0–19. */
  nice: number;
  /** Default /usr/bin/prlimit and /usr/bin/nice. */
  prlimit?: string;
  niceProgram?: string;
}

/** A free TCP port on `host` (bound and released; the child binds it right after). */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port =
        typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The last lines of a log file (at most ~2 KB), for a failure reason. */
export function logTail(path: string, maxBytes = 2048): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const lines = buf
      .toString('utf8')
      .split('\n')
      .map(l => l.trimEnd())
      .filter(l => l !== '');
    return lines.slice(-5).join(' | ');
  } finally {
    closeSync(fd);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` still runs `program` (guards against a reused pid). */
export function runs(pid: number, program: string): boolean {
  if (!alive(pid)) {
    return false;
  }
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return argv0 === program;
  } catch {
    return true;
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** The uid and gid of a Unix account (`getent passwd`, so NSS accounts work too). */
export function lookupAccount(name: string): ILocalAccount {
  let line = '';
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' });
  } catch {
    // not found: below
  }
  const [, , uid, gid] = line.trim().split(':');
  if (uid === undefined || gid === undefined || !/^\d+$/.test(uid + gid)) {
    throw new Error(
      `serving.providers.local.runAs: there is no Unix account ${name} on this host`
    );
  }
  return { name, uid: Number(uid), gid: Number(gid) };
}

/** The error of a start that finds no room: `noCapacity` lets a fallback take it. */
export function noRoom(message: string): Error {
  return Object.assign(new Error(message), { noCapacity: true });
}

/** The argv under the limits: `prlimit … -- nice -n N PROGRAM ARGS` (each execs the next). */
export function limitedArgv(
  argv: readonly string[],
  memoryMB: number,
  limits: ILocalLimits | undefined
): string[] {
  if (limits === undefined) {
    return [...argv];
  }
  const bytes = (memoryMB + limits.memoryHeadroomMB) * 1024 * 1024;
  return [
    limits.prlimit ?? '/usr/bin/prlimit',
    `--as=${bytes}`,
    '--core=0',
    '--',
    limits.niceProgram ?? '/usr/bin/nice',
    '-n',
    String(limits.nice),
    ...argv
  ];
}

/** Whether `program` (a path) can be run; a bare name is looked up on PATH, so it counts. */
export function installed(program: string): boolean {
  if (!program.includes('/')) {
    return true;
  }
  try {
    accessSync(program, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The machine's build of the model server, as its installer records it
 * (`serving.providers.local.buildStatus`, e.g. the stack's /opt/hpc-bridge/llama/status):
 * lines `state=building|ready|failed`, `since=`, `pid=` (of the build), `log=`.
 */
export interface IBuildStatus {
  /** `building` only while the build's process lives (a reboot or kill ends it). */
  state: 'building' | 'ready' | 'failed';
  since: string | null;
  log: string | null;
}

/** The build status in `path`, or null when there is none (or it cannot be read). */
export function readBuildStatus(path: string): IBuildStatus | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string): string | null => {
    const line = text.split('\n').find(l => l.startsWith(`${name}=`));
    const value = line?.slice(name.length + 1).trim();
    return value === undefined || value === '' ? null : value;
  };
  const state = field('state');
  if (state !== 'building' && state !== 'ready' && state !== 'failed') {
    return null;
  }
  const pid = Number(field('pid'));
  const gone =
    state === 'building' && !(Number.isInteger(pid) && pid > 0 && alive(pid));
  return {
    state: gone ? 'failed' : state,
    since: field('since'),
    log: field('log')
  };
}
