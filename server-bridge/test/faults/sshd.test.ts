/**
 * Fault: the login node's sshd goes away with its open sessions (stack/ctl stop sshd).
 * Calls that need the cluster answer 503 in the one error shape with a sentence naming
 * the cluster; once sshd is back they work again without restarting the bridge.
 */
import { FileListSchema, Routes } from '../../src/contract';
import { SshError } from '../../src/adapters/ssh/client';
import { aliceConnection, bridge } from '../integration/stack';
import {
  ctl,
  duringFault,
  ended,
  errorOf,
  faultSuite,
  sleep,
  sleeper,
  submitJob,
  submitOk,
  waitForJob
} from './fault';

const { run: RUN, alice } = faultSuite();

/** What a user sees of the cluster being unreachable. */
function expectClusterUnreachable(res: { status: number; body: unknown }) {
  const { status, error } = errorOf(res);
  expect({ status, code: error.code }).toEqual({
    status: 503,
    code: 'upstream_unavailable'
  });
  expect(error.message).toMatch(/\bdemo\b/);
  expect(error.message).toMatch(/login node|127\.0\.0\.1:2222/);
  expect(error.message).toMatch(/\.$/);
  return error.message;
}

it('answers 503 with a sentence naming the cluster while sshd is down, and works again afterwards', async () => {
  const finished = await submitOk(alice(), sleeper(`fault-ssh-a-${RUN}`, 1));
  await waitForJob(alice(), finished.id, ended);
  const bridgePid = await ctl('pid', 'bridge');

  await duringFault('sshd', 'stop', async () => {
    expectClusterUnreachable(
      await submitJob(alice(), sleeper(`fault-ssh-b-${RUN}`, 1))
    );
    expectClusterUnreachable(
      await bridge(`${Routes.jobOutput(finished.id)}?element=0`, alice())
    );
    expectClusterUnreachable(
      await bridge(`${Routes.tierFiles('scratch')}?path=`, alice())
    );
    // What the store knows needs no cluster.
    const job = await bridge(Routes.job(finished.id), alice());
    expect(job.status).toBe(200);
  });

  // Same bridge process, new sessions.
  expect(await ctl('pid', 'bridge')).toBe(bridgePid);
  const again = await submitOk(alice(), sleeper(`fault-ssh-c-${RUN}`, 1));
  expect((await waitForJob(alice(), again.id, ended)).state).toBe('COMPLETED');
  const output = await bridge(
    `${Routes.jobOutput(finished.id)}?element=0`,
    alice()
  );
  expect(output.status).toBe(200);
  const files = await bridge(`${Routes.tierFiles('scratch')}?path=`, alice());
  expect(files.status).toBe(200);
  FileListSchema.parse(files.body);
});

it('fails a command and an SFTP session that sshd cut off as a lost connection, not as their result', async () => {
  const conn = aliceConnection();
  try {
    const command = conn.exec(['sleep', '60'], { timeoutMs: 120_000 });
    const transfer = conn.withSftp(async sftp => {
      for (;;) {
        await new Promise<void>((resolve, reject) =>
          sftp.stat('.', err => (err ? reject(err) : resolve()))
        );
        await sleep(50);
      }
    });
    const outcomes = Promise.allSettled([command, transfer]);
    await sleep(1_000);
    // Bounded: a request pending on a dead connection used to wait forever. The bound's
    // timer is cleared once the calls have settled, so that it does not keep jest alive.
    let bound: NodeJS.Timeout | undefined;
    const lost = await duringFault('sshd', 'stop', () =>
      Promise.race([
        outcomes,
        new Promise<string>(resolve => {
          bound = setTimeout(() => resolve('still waiting'), 30_000);
        })
      ]).finally(() => clearTimeout(bound))
    );
    if (typeof lost === 'string') {
      throw new Error(`the calls were ${lost} 30 s after sshd went away`);
    }
    for (const outcome of lost) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as SshError;
      expect(reason).toBeInstanceOf(SshError);
      expect(reason.stage).toBe('connect');
      expect(reason.message).toMatch(/was lost during/);
    }
    // The next call connects afresh.
    expect((await conn.exec(['true'])).code).toBe(0);
  } finally {
    conn.close();
  }
});
