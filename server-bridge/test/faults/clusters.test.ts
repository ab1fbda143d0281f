/**
 * Fault: the second cluster's slurmctld (demo2) is stopped. The first cluster stays fully
 * usable meanwhile (a job is submitted and completes, its status is ok), demo2 is listed
 * down with the reason and refuses submits with a 503 naming it; a demo2 job that was
 * running goes on. Once the controller is back, demo2 takes and completes jobs again.
 */
import { HealthSchema } from '../../src/contract';
import {
  clustersNow,
  finished,
  probeJob,
  stdoutOf,
  submitted
} from '../integration/cluster-jobs';
import { bridge } from '../integration/stack';
import {
  duringFault,
  errorOf,
  eventually,
  faultSuite,
  getJob,
  submitJob,
  waitForJob
} from './fault';

const { run: RUN, alice } = faultSuite();

async function clusterHealth(): Promise<Record<string, string>> {
  const res = await bridge('/api/v1/health', alice());
  const components = HealthSchema.parse(res.body).components;
  return Object.fromEntries(
    components.filter(c => c.kind === 'cluster').map(c => [c.name, c.status])
  );
}

it("keeps demo usable while demo2's slurmctld is down, and demo2 works again once it is back", async () => {
  // Runs through the outage on node2: slurmd keeps it going without its controller.
  const through = await submitted(
    alice(),
    probeJob('demo2', `through-${RUN}`, 25)
  );
  await waitForJob(alice(), through.id, j => j.state === 'RUNNING');

  await duringFault('slurmctld-demo2', 'stop', async () => {
    const down = await clustersNow(alice());
    expect(down.get('demo')?.status).toBe('ok');
    expect(down.get('demo2')).toMatchObject({
      status: 'down',
      partitions: [],
      error: expect.stringMatching(/^slurmctld of demo2 not reachable: /)
    });

    const refused = errorOf(
      await submitJob(alice(), probeJob('demo2', `refused-${RUN}`))
    );
    expect({ status: refused.status, code: refused.error.code }).toEqual({
      status: 503,
      code: 'upstream_unavailable'
    });
    expect(refused.error.message).toMatch(/\bdemo2\b.*slurmctld/);

    // The first cluster meanwhile: a job from submit to its output.
    const onDemo = await submitted(alice(), probeJob('demo', `during-${RUN}`));
    expect((await finished(alice(), onDemo.id)).state).toBe('COMPLETED');
    expect(await stdoutOf(alice(), onDemo.id)).toContain(
      `probe during-${RUN} cluster=demo host=`
    );
    expect(await clusterHealth()).toEqual({
      'cluster:demo': 'ok',
      'cluster:demo2': 'down'
    });
    // Not flipped to an end it did not reach while its controller is away.
    expect((await getJob(alice(), through.id)).state).toBe('RUNNING');
  });

  await eventually('demo2 listed ok again', async () =>
    (await clustersNow(alice())).get('demo2')?.status === 'ok'
      ? true
      : undefined
  );
  expect((await finished(alice(), through.id)).state).toBe('COMPLETED');
  const after = await submitted(alice(), probeJob('demo2', `after-${RUN}`));
  expect((await finished(alice(), after.id)).state).toBe('COMPLETED');
  expect(await stdoutOf(alice(), after.id)).toContain(
    `probe after-${RUN} cluster=demo2 host=node2 queue=${after.slurmId}:batch2`
  );
  expect(await clusterHealth()).toEqual({
    'cluster:demo': 'ok',
    'cluster:demo2': 'ok'
  });
});
