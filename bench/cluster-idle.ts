/** An idle SLURM partition before each cold-start round: the queue's state is not part of the time. */
import { execFileSync } from 'node:child_process';

/**
 * Waits until the partition has no job in any state and the node has finished cleaning
 * up after the last one: an idle cluster. A job submitted while the node still completes
 * the previous one is not started at submit; slurmctld's batch scheduler picks it up
 * within `batch_sched_delay` (3 s by default), which once made both sides bimodal.
 */
export async function untilClusterIdle(partition: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const jobs = execFileSync('squeue', ['-h', '-p', partition, '-o', '%i'], {
      encoding: 'utf8'
    }).trim();
    const nodes = execFileSync('sinfo', ['-h', '-p', partition, '-o', '%T'], {
      encoding: 'utf8'
    });
    if (jobs === '' && !/comp/i.test(nodes)) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `partition ${partition} not idle after 60 s: ${jobs} ${nodes}`
      );
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

/** Runs `measure` once the partition is idle; the wait is not part of the time. */
export function onIdleCluster<T>(
  partition: string,
  measure: () => Promise<T>
): () => Promise<T> {
  return async () => {
    await untilClusterIdle(partition);
    return measure();
  };
}
