/**
 * Fault: slurmctld is stopped for 30 s while jobs run (one ends during the outage).
 * Submits answer 503 with a sentence naming the cluster's controller; no job is lost or
 * shown as failed meanwhile; after the controller is back every job reaches COMPLETED.
 */
import { Routes, type JobState } from '../../src/contract';
import { bridge } from '../integration/stack';
import {
  duringFault,
  ended,
  errorOf,
  faultSuite,
  getJob,
  sleep,
  sleeper,
  submitJob,
  submitOk,
  waitForJob
} from './fault';

const { run: RUN, alice } = faultSuite();
const OUTAGE_MS = 30_000;

it('keeps every job through a 30 s slurmctld outage and refuses submits with a clear 503', async () => {
  const short = await submitOk(alice(), sleeper(`fault-ctld-short-${RUN}`, 8));
  const long = await submitOk(alice(), sleeper(`fault-ctld-long-${RUN}`, 45));
  await waitForJob(alice(), short.id, j => j.state === 'RUNNING');
  await waitForJob(alice(), long.id, j => j.state === 'RUNNING');

  const seen = new Set<JobState>();
  await duringFault('slurmctld', 'stop', async () => {
    const started = Date.now();
    const refused = errorOf(
      await submitJob(alice(), sleeper(`fault-ctld-refused-${RUN}`, 1))
    );
    expect({ status: refused.status, code: refused.error.code }).toEqual({
      status: 503,
      code: 'upstream_unavailable'
    });
    expect(refused.error.message).toMatch(/\bdemo\b/);
    expect(refused.error.message).toMatch(/controller|slurmctld/i);
    expect(refused.error.message).not.toMatch(/\n/);
    while (Date.now() - started < OUTAGE_MS) {
      for (const id of [short.id, long.id]) {
        seen.add((await getJob(alice(), id)).state);
      }
      await sleep(1_000);
    }
  });

  // Nothing flipped to an end state the jobs did not reach.
  expect([...seen].filter(s => s !== 'RUNNING' && s !== 'COMPLETED')).toEqual(
    []
  );
  for (const job of [short, long]) {
    expect((await waitForJob(alice(), job.id, ended)).state).toBe('COMPLETED');
  }
  const list = await bridge(Routes.jobs, alice());
  expect(list.status).toBe(200);
  const after = await submitOk(alice(), sleeper(`fault-ctld-after-${RUN}`, 1));
  expect((await waitForJob(alice(), after.id, ended)).state).toBe('COMPLETED');
});
