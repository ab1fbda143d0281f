/**
 * CPU and memory of a stack process from /proc: CPU time from /proc/PID/stat (utime +
 * stime, in clock ticks), resident memory from /proc/PID/status (VmRSS).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const CLOCK_TICKS = Number(
  (() => {
    try {
      return execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
    } catch {
      return '100';
    }
  })()
);

/** The pid in STACK_DIR/run/NAME.pid (written by ./stack/up). */
export function stackPid(stackDir: string, name: string): number {
  return Number(
    readFileSync(join(stackDir, 'run', `${name}.pid`), 'utf8').trim()
  );
}

/** The fields of /proc/PID/stat after the command name (field 3 of the line is [0]). */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system) PID has used since it started. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds of the children PID (or this process) has waited for: cutime + cstime. */
export function endedChildrenCpuSeconds(pid: number | 'self'): number {
  const fields = statFields(pid);
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/**
 * CPU seconds of PID and all its descendants, the ended ones included (a parent that
 * waited for a child holds its time in cutime/cstime): e.g. sshd and every session and
 * sftp-server it forked.
 */
export function treeCpuSeconds(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const parent = Number(statFields(Number(entry))[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // ended meanwhile
    }
  }
  const total = (p: number): number => {
    try {
      return (
        cpuSeconds(p) +
        endedChildrenCpuSeconds(p) +
        (children.get(p) ?? []).reduce((sum, c) => sum + total(c), 0)
      );
    } catch {
      return 0;
    }
  };
  return total(pid);
}

/** Resident memory of PID in bytes, or null when it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

export interface IUsage {
  /** Average CPU over the window, in % of one core. */
  cpuPercent: number;
  /** The busiest sampling interval, in % of one core. */
  peakCpuPercent: number;
  peakRss: number;
  seconds: number;
}

/** Samples a process every `everyMs` from construction until `stop()`. */
export class UsageSampler {
  private readonly startCpu: number;
  private readonly startAt = Date.now();
  private lastCpu: number;
  private lastAt = this.startAt;
  private peakCpu = 0;
  private peakRss = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 1000
  ) {
    this.startCpu = cpuSeconds(pid);
    this.lastCpu = this.startCpu;
    this.sampleRss();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sampleRss(): void {
    this.peakRss = Math.max(this.peakRss, rssBytes(this.pid) ?? 0);
  }

  private sample(): void {
    this.sampleRss();
    try {
      const cpu = cpuSeconds(this.pid);
      const now = Date.now();
      if (now > this.lastAt) {
        this.peakCpu = Math.max(
          this.peakCpu,
          ((cpu - this.lastCpu) / ((now - this.lastAt) / 1000)) * 100
        );
      }
      this.lastCpu = cpu;
      this.lastAt = now;
    } catch {
      // the process is gone: keep what was sampled
    }
  }

  stop(): IUsage {
    clearInterval(this.timer);
    this.sample();
    const seconds = (this.lastAt - this.startAt) / 1000;
    return {
      cpuPercent:
        seconds > 0 ? ((this.lastCpu - this.startCpu) / seconds) * 100 : 0,
      peakCpuPercent: this.peakCpu,
      peakRss: this.peakRss,
      seconds
    };
  }
}

/** The q-quantile (0..1) of `values` (sorted in place); NaN when empty. */
export function quantile(values: number[] | Float64Array, q: number): number {
  if (values.length === 0) {
    return NaN;
  }
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.floor(values.length * q))];
}
