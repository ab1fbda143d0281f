import type { ClusterKernel } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * What the status bar and the notices say about a cluster kernel: plain
 * functions of the kernel and the clock, no DOM.
 */
export namespace KernelStatus {
  /** The bridge's `endedReason` when the owner shut the kernel down (notebook, menu, restart). */
  export const OWNER_STOP_REASON = 'stopped by its owner';

  /** `1st`, `2nd`, `3rd`, `4th`, …, `11th`, `12th`, `13th`, `21st`. */
  export function ordinal(n: number): string {
    const tens = n % 100;
    if (tens >= 11 && tens <= 13) {
      return `${n}th`;
    }
    switch (n % 10) {
      case 1:
        return `${n}st`;
      case 2:
        return `${n}nd`;
      case 3:
        return `${n}rd`;
      default:
        return `${n}th`;
    }
  }

  /** Whole minutes until the walltime ends (0 once it has), or `null` when unknown. */
  export function minutesLeft(
    kernel: Pick<ClusterKernel, 'walltimeEnd'>,
    now: number
  ): number | null {
    if (kernel.walltimeEnd === null) {
      return null;
    }
    const ms = Date.parse(kernel.walltimeEnd) - now;
    return Number.isNaN(ms) ? null : Math.max(0, Math.floor(ms / 60_000));
  }

  /** `14:05`, or `Dec 8, 14:05` when not today. */
  export function clock(iso: string, now: number): string {
    const at = new Date(iso);
    const sameDay = at.toDateString() === new Date(now).toDateString();
    return at.toLocaleString(undefined, {
      ...(sameDay ? {} : { month: 'short', day: 'numeric' }),
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23'
    });
  }

  /** `42 min left`, `1 h 5 min left`. */
  export function timeLeft(minutes: number, trans: TranslationBundle): string {
    if (minutes < 60) {
      return trans.__('%1 min left', minutes);
    }
    return trans.__('%1 h %2 min left', Math.floor(minutes / 60), minutes % 60);
  }

  /** `Waiting for the cluster: 2nd in queue (Resources), expected 14:05`. */
  export function waiting(
    kernel: ClusterKernel,
    now: number,
    trans: TranslationBundle
  ): string {
    const parts: string[] = [];
    if (kernel.queuePosition !== null) {
      parts.push(trans.__('%1 in queue', ordinal(kernel.queuePosition)));
    }
    if (kernel.pendingReason) {
      parts.push(`(${kernel.pendingReason})`);
    }
    let detail = parts.join(' ');
    if (kernel.expectedStart !== null) {
      const expected = trans.__(
        'expected %1',
        clock(kernel.expectedStart, now)
      );
      detail = detail ? `${detail}, ${expected}` : expected;
    }
    return detail
      ? trans.__('Waiting for the cluster: %1', detail)
      : trans.__('Waiting for the cluster…');
  }

  /** The status bar's text for a cluster kernel. */
  export function text(
    kernel: ClusterKernel,
    now: number,
    trans: TranslationBundle
  ): string {
    switch (kernel.state) {
      case 'pending':
        return waiting(kernel, now, trans);
      case 'starting':
        return kernel.node
          ? trans.__('Starting on %1…', kernel.node)
          : trans.__('Starting on the cluster…');
      case 'running': {
        const parts = [trans.__('Cluster: %1', kernel.node ?? '?')];
        if (kernel.slurmId !== null) {
          parts.push(trans.__('job %1', kernel.slurmId));
        }
        const left = minutesLeft(kernel, now);
        if (left !== null) {
          parts.push(timeLeft(left, trans));
        }
        return parts.join(' · ');
      }
      default:
        return kernel.slurmId === null
          ? trans.__('Cluster kernel ended')
          : trans.__(
              'Cluster job %1 ended: %2',
              kernel.slurmId,
              kernel.endedReason ?? kernel.state
            );
    }
  }

  /** A SLURM end state in words: `walltime reached` for `TIMEOUT`; `null` when unknown. */
  export function explain(
    reason: string | null,
    trans: TranslationBundle
  ): string | null {
    switch (reason) {
      case 'TIMEOUT':
        return trans.__('walltime reached');
      case 'NODE_FAIL':
        return trans.__('the node failed');
      case 'OUT_OF_MEMORY':
        return trans.__('out of memory');
      case 'PREEMPTED':
        return trans.__('preempted by another job');
      case 'CANCELLED':
        return trans.__('cancelled outside the notebook');
      case 'BOOT_FAIL':
        return trans.__('the node did not boot');
      case 'DEADLINE':
        return trans.__('deadline reached');
      default:
        return null;
    }
  }

  /**
   * Whether the kernel ended because its owner shut it down (no error to show): a
   * shutdown from JupyterLab ends ipykernel itself, so its job completes (`ended`)
   * before the launcher could cancel it; a cancel by the launcher says so.
   */
  export function endedByOwner(kernel: ClusterKernel): boolean {
    return (
      kernel.state === 'ended' ||
      (kernel.state === 'cancelled' && kernel.endedReason === OWNER_STOP_REASON)
    );
  }

  /**
   * `The cluster job 123 ended: TIMEOUT (walltime reached). Restart the kernel to get a new job.`
   */
  export function endedMessage(
    kernel: ClusterKernel,
    trans: TranslationBundle
  ): string {
    const reason = kernel.endedReason ?? kernel.state;
    const words = explain(kernel.endedReason, trans);
    const why = words === null ? reason : `${reason} (${words})`;
    const ended =
      kernel.slurmId === null
        ? trans.__('The cluster kernel ended: %1.', why)
        : trans.__('The cluster job %1 ended: %2.', kernel.slurmId, why);
    return `${ended} ${trans.__('Restart the kernel to get a new job.')}`;
  }

  /** `The walltime of cluster job 123 ends in 9 min: save your work.` */
  export function walltimeWarning(
    kernel: ClusterKernel,
    minutes: number,
    trans: TranslationBundle
  ): string {
    return trans.__(
      'The walltime of cluster job %1 ends in %2 min (%3): save your work; the kernel stops then.',
      kernel.slurmId ?? '?',
      minutes,
      kernel.walltimeEnd === null
        ? '?'
        : clock(kernel.walltimeEnd, Date.parse(kernel.walltimeEnd))
    );
  }
}
